/**
 * One call graph for the whole fleet (workers and replicas), over a capped Redis Stream: each process
 * publishes its delegation stage's graph events (governance/graph/feed.ts) in batches, one XADD per event-loop
 * turn at most, and applies everyone else's as they arrive (a blocking XREAD on a connection of its own). So
 * `/graph`, `/graph/tasks/<id>`, `/ui`, `tollgate graph` and `ctl graph` on any replica show the whole
 * fleet, and the aggregate's cycle detection runs on the fleet's edges.
 *
 * With fleet governance's hot-path connection as `turn` (governance/fleet/resp.ts), a turn's batch goes out
 * in the same socket write as that turn's reservations and releases instead of a write of its own.
 *
 * A process starting reads back the stream's last `graph.window` first, so its aggregate is complete at
 * once. Publishing never waits: a batch Redis refuses is dropped (the graph is an observability view; the
 * limits and budgets that must be exact are enforced separately, fail closed).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { applyGraphEvent, type CallGraph, type GraphEvent } from '../governance/graph/index.js';
import type { GatewayLog } from '../control/gateway-identity.js';

/** A connection that writes everything of one event-loop turn at once (governance/fleet/resp.ts RespConnection). */
export interface TurnWriter {
  /** `f` runs just before the turn's write: what it sends goes out with it */
  onFlush(f: () => void): void;
  /** make sure this turn ends with a write */
  schedule(): void;
  command(args: readonly string[]): Promise<unknown>;
}

export interface GraphStreamOptions {
  /** the fleet's client (the reader's connection is a duplicate; publishing, unless `turn` is given) */
  redis: Redis;
  /** publish on this connection instead, in the turn's write */
  turn?: TurnWriter;
  prefix: string;
  graph: CallGraph;
  /** how far back a starting process reads (the aggregate's window) */
  windowMs: number;
  /** most entries kept in the stream (approximate trim) */
  maxLen?: number;
  log: GatewayLog;
  /** something from another process was applied (the live page refreshes) */
  changed?: () => void;
  /** another process cancelled a root task (the kill switch ends that task's calls in flight here) */
  onCancel?: (rootTaskId: string) => void;
}

export interface GraphStream {
  publish(e: GraphEvent): void;
  /** events from other processes applied so far */
  applied(): number;
  close(): Promise<void>;
}

export function startGraphStream(o: GraphStreamOptions): GraphStream {
  const key = `${o.prefix}graph`;
  const origin = randomBytes(6).toString('base64url');
  const maxLen = o.maxLen ?? 100_000;
  let pending: GraphEvent[] = [];
  let scheduled = false;
  let closed = false;
  let appliedCount = 0;
  let dropped = 0;

  const notPublished = (err: unknown) => {
    if (dropped++ === 0) o.log.warn({ err }, 'graph stream: a batch of call-graph events was not published (other replicas will not show it)');
  };
  const turn = o.turn;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const json = JSON.stringify(batch);
    if (turn) turn.command(['XADD', key, 'MAXLEN', '~', String(maxLen), '*', 'o', origin, 'e', json]).catch(notPublished);
    else o.redis.xadd(key, 'MAXLEN', '~', maxLen, '*', 'o', origin, 'e', json).catch(notPublished);
  };
  turn?.onFlush(flush);

  // blocking reads need a connection of their own, without the fleet client's short command timeout
  const reader = o.redis.duplicate({ commandTimeout: undefined, enableOfflineQueue: true, maxRetriesPerRequest: null });
  reader.on('error', () => undefined); // reconnects by itself; the loop below retries
  let lastId = `${Date.now() - o.windowMs}-0`;

  // entries are read as bytes: this process's own (every entry, in a single-process fleet) are recognised by
  // their origin and skipped without decoding their JSON (a profile of the bench gateway with the stream on,
  // loaded machine: the reader cost ~9 us per call, ~2 us of it decoding entries to strings)
  const originBytes = Buffer.from(origin);
  const readLoop = async () => {
    while (!closed) {
      let reply: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        reply = await reader.xreadBuffer('COUNT', 500, 'BLOCK', 2000, 'STREAMS', key, lastId);
      } catch {
        if (closed) return;
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (reply === null) continue;
      let any = false;
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          lastId = id.toString('latin1');
          let from: Buffer | undefined;
          let body: Buffer | undefined;
          for (let i = 0; i + 1 < fields.length; i += 2) {
            const name = fields[i];
            if (name.length !== 1) continue;
            if (name[0] === 0x6f /* o */) from ??= fields[i + 1];
            else if (name[0] === 0x65 /* e */) body ??= fields[i + 1];
          }
          if (from?.equals(originBytes)) continue;
          let events: GraphEvent[];
          try {
            events = JSON.parse(body?.toString('utf8') ?? '[]') as GraphEvent[];
          } catch {
            continue; // not ours to understand: skip it
          }
          for (const e of events) {
            try {
              applyGraphEvent(o.graph, e);
              if (e.k === 'cancel') o.onCancel?.(e.root);
              appliedCount++;
              any = true;
            } catch (err) {
              o.log.warn({ err }, 'graph stream: an event from another replica could not be applied');
            }
          }
        }
      }
      if (any) o.changed?.();
    }
  };
  const loop = readLoop();

  return {
    publish(e) {
      pending.push(e);
      if (turn) {
        if (pending.length === 1) turn.schedule();
      } else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    applied: () => appliedCount,
    async close() {
      closed = true;
      flush();
      reader.disconnect();
      await loop.catch(() => undefined);
    },
  };
}
