/**
 * The event bus behind WatchEvents (and any other audit consumer): the gateway publishes, watchers
 * subscribe with a filter. Publishing never waits for a watcher and never does I/O: matching events go
 * into a bounded per-subscriber queue that is flushed on a later tick. A subscriber whose queue overflows
 * (its consumer is slower than the gateway) is dropped and told why, so a stuck `ctl watch` can never slow
 * calls down or grow memory without bound.
 *
 * Cost with no subscribers: one length check. Callers on the request path can test `bus.subscribers`
 * before building an event at all.
 */
import { shortName } from '../../certs/spiffe-id.js';

export const EVENT_KINDS = ['call', 'refusal', 'issuance', 'revocation', 'config', 'task'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface TollgateEvent {
  /** ms since epoch */
  time: number;
  kind: EventKind;
  /** SPIFFE ID of who did it: the caller of a call, the admin of a config change */
  actor: string;
  /** callee or subject agent name, when there is one */
  agent?: string;
  /** one human line */
  summary: string;
  /** the full audit record (serialised to JSON only when a watcher receives it) */
  data?: Record<string, unknown>;
}

export interface EventFilter {
  /** agent names, actor SPIFFE IDs, or an actor's last path segment; empty/absent = all */
  agents?: readonly string[];
  kinds?: readonly EventKind[];
}

export interface EventSink {
  /** deliver one event; return false when the consumer is backed up (the bus pauses until resume()) */
  write(event: TollgateEvent): boolean;
  /** the bus dropped this subscriber (queue overflow, or the sink threw); no more events will come */
  dropped(reason: string): void;
  /** the bus was closed (gateway shutdown) */
  end?(): void;
}

export interface EventSubscription {
  /** the consumer drained: deliver what queued up meanwhile */
  resume(): void;
  /** unsubscribe (idempotent) */
  close(): void;
  readonly buffered: number;
  readonly closed: boolean;
}

export interface EventBus {
  publish(event: TollgateEvent): void;
  subscribe(filter: EventFilter, sink: EventSink, opts?: { maxBuffered?: number }): EventSubscription;
  /** live subscribers: publish nothing when 0 */
  readonly subscribers: number;
  /** end every subscription (sink.end) and refuse new ones */
  close(): void;
}

export const DEFAULT_MAX_BUFFERED = 1024;

/** The filter as a predicate, built once per subscription. */
export function eventMatcher(filter: EventFilter): (e: TollgateEvent) => boolean {
  const kinds = filter.kinds && filter.kinds.length > 0 ? new Set<string>(filter.kinds) : null;
  const agents = filter.agents && filter.agents.length > 0 ? new Set<string>(filter.agents) : null;
  return (e) => {
    if (kinds !== null && !kinds.has(e.kind)) return false;
    if (agents === null) return true;
    return (e.agent !== undefined && agents.has(e.agent)) || agents.has(e.actor) || agents.has(shortName(e.actor));
  };
}

class Subscriber implements EventSubscription {
  private queue: TollgateEvent[] = [];
  private head = 0;
  private paused = false;
  private scheduled = false;
  closed = false;

  constructor(
    readonly matches: (e: TollgateEvent) => boolean,
    private readonly sink: EventSink,
    private readonly maxBuffered: number,
    private readonly schedule: (fn: () => void) => void,
    private readonly detach: (s: Subscriber) => void,
  ) {}

  get buffered(): number {
    return this.queue.length - this.head;
  }

  offer(e: TollgateEvent): void {
    if (this.buffered >= this.maxBuffered) {
      this.drop(`this watcher fell more than ${this.maxBuffered} events behind and was disconnected; reconnect to resume`);
      return;
    }
    this.queue.push(e);
    this.kick();
  }

  resume(): void {
    if (this.closed) return;
    this.paused = false;
    this.kick();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.detach(this);
  }

  end(): void {
    if (this.closed) return;
    this.close();
    this.sink.end?.();
  }

  private drop(reason: string): void {
    if (this.closed) return;
    this.close();
    this.sink.dropped(reason);
  }

  private kick(): void {
    if (this.scheduled || this.paused || this.closed) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    while (!this.paused && !this.closed && this.head < this.queue.length) {
      const e = this.queue[this.head++];
      let more: boolean;
      try {
        more = this.sink.write(e);
      } catch {
        this.drop('the watcher failed to accept an event');
        return;
      }
      if (!more) this.paused = true;
    }
    // Reclaim the consumed prefix once it is most of the array (amortised O(1) per event).
    if (this.head > 0 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

export function createEventBus(opts: { maxBuffered?: number; schedule?: (fn: () => void) => void } = {}): EventBus {
  const schedule = opts.schedule ?? ((fn) => setImmediate(fn));
  const defaultMax = opts.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  // Copy-on-write: publish iterates a snapshot that subscribe/close never mutate in place.
  let subs: readonly Subscriber[] = [];
  let closed = false;
  const detach = (s: Subscriber) => {
    subs = subs.filter((x) => x !== s);
  };

  return {
    publish(event) {
      const list = subs;
      for (let i = 0; i < list.length; i++) {
        if (list[i].matches(event)) list[i].offer(event);
      }
    },
    subscribe(filter, sink, o = {}) {
      const max = o.maxBuffered ?? defaultMax;
      if (!(max >= 1)) throw new RangeError('maxBuffered must be at least 1');
      const s = new Subscriber(eventMatcher(filter), sink, max, schedule, detach);
      if (closed) {
        s.end();
        return s;
      }
      subs = [...subs, s];
      return s;
    },
    get subscribers() {
      return subs.length;
    },
    close() {
      closed = true;
      for (const s of subs) s.end();
      subs = [];
    },
  };
}
