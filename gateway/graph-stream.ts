/**
 * One call graph for the whole fleet (workers and replicas), over a capped Redis Stream: each process
 * publishes its delegation stage's graph events (governance/graph/feed.ts) in batches and applies everyone
 * else's as they arrive (a blocking XREAD on a connection of its own). So `/graph`, `/graph/tasks/<id>`,
 * `/ui`, `tollgate graph` and `ctl graph` on any replica show the whole fleet, and the aggregate's cycle
 * detection runs on the fleet's edges.
 *
 * Every process reads every batch of the fleet (its own too: a stream cannot leave them out), so what a
 * batch costs is paid once per process. A batch goes out at most every FLUSH_MS (at once when it holds a
 * cancel, for the kill switch), packed by governance/graph/wire.ts: a call that ends within its batch is one
 * row, repeated strings are sent once. Sent once per event-loop turn as JSON events, the stream cost each
 * process ~61 µs of CPU per call at 3,000 calls/s, most of it in the socket writes of an XADD and of one new
 * XREAD per process per turn; now ~6 µs (`node dist/bench/graph-stream.js --fleet`, docs/performance.md
 * "Session 6"). What it changes: another process shows a call ~FLUSH_MS plus a round trip later.
 *
 * With fleet governance's hot-path connection as `turn` (governance/fleet/resp.ts), a batch goes out in the
 * socket write of the turn it is flushed in, with that turn's reservations and releases.
 *
 * A process starting reads back the stream's last `graph.window` first, so its aggregate is complete at
 * once; with a batch per process per FLUSH_MS at most, the default cap (100,000 batches) holds a 5-minute
 * window of ~30 busy processes. Publishing never waits: a batch Redis refuses is dropped (the graph is an
 * observability view; the limits and budgets that must be exact are enforced separately, fail closed).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { applyGraphBatch, applyGraphEvent, GraphBatch, type CallGraph, type GraphEvent } from '../governance/graph/index.js';
import type { GatewayLog } from '../control/gateway-identity.js';

/** A connection that writes everything of one event-loop turn at once (governance/fleet/resp.ts RespConnection). */
export interface TurnWriter {
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
  /** longest a call waits to be sent (default FLUSH_MS) */
  flushMs?: number;
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

/** Longest a call waits to be sent to the other processes. */
export const FLUSH_MS = 100;
/** A batch is sent early when it holds this many events (bounds its size and the memory it holds). */
const MAX_BATCH_EVENTS = 4096;

export function startGraphStream(o: GraphStreamOptions): GraphStream {
  const key = `${o.prefix}graph`;
  const origin = randomBytes(6).toString('base64url');
  const maxLen = o.maxLen ?? 100_000;
  const flushMs = o.flushMs ?? FLUSH_MS;
  const batch = new GraphBatch();
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let closed = false;
  let appliedCount = 0;
  let dropped = 0;
  let unreadable = 0;

  const notPublished = (err: unknown) => {
    if (dropped++ === 0) o.log.warn({ err }, 'graph stream: a batch of call-graph events was not published (other replicas will not show it)');
  };
  const turn = o.turn;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    if (immediate !== undefined) clearImmediate(immediate);
    timer = undefined;
    immediate = undefined;
    if (batch.events === 0) return;
    const packed = batch.take();
    if (turn) turn.command(['XADD', key, 'MAXLEN', '~', String(maxLen), '*', 'o', origin, 'g', packed]).catch(notPublished);
    else o.redis.xadd(key, 'MAXLEN', '~', maxLen, '*', 'o', origin, 'g', packed).catch(notPublished);
  };

  // blocking reads need a connection of their own, without the fleet client's short command timeout
  const reader = o.redis.duplicate({ commandTimeout: undefined, enableOfflineQueue: true, maxRetriesPerRequest: null });
  reader.on('error', () => undefined); // reconnects by itself; the loop below retries
  let lastId = `${Date.now() - o.windowMs}-0`;

  const readLoop = async () => {
    while (!closed) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = await reader.xread('COUNT', 100, 'BLOCK', 2000, 'STREAMS', key, lastId);
      } catch {
        if (closed) return;
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (reply === null) continue;
      let any = false;
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          lastId = id;
          // fields: o <origin>, then g <batch> (wire.ts) or, from a process of an earlier version, e <JSON events>
          if (fields[1] === origin) continue;
          if (fields[2] === 'g') {
            try {
              appliedCount += applyGraphBatch(o.graph, fields[3], o.onCancel);
              any = true;
            } catch (err) {
              // once: a replica of a later version may send batches this one cannot read, every ~100 ms
              if (unreadable++ === 0) o.log.warn({ err }, 'graph stream: a batch from another replica could not be applied (its calls are missing here)');
            }
          } else if (applyEvents(fields[fields.indexOf('e') + 1])) any = true;
        }
      }
      if (any) o.changed?.();
    }
  };
  /** a batch of JSON events from a process of an earlier version (rolling upgrades) */
  const applyEvents = (text: string | undefined): boolean => {
    let events: GraphEvent[];
    try {
      events = JSON.parse(text ?? '[]') as GraphEvent[];
    } catch {
      return false; // not ours to understand: skip it
    }
    let any = false;
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
    return any;
  };
  const loop = readLoop();

  return {
    publish(e) {
      batch.add(e);
      if (batch.urgent || batch.events >= MAX_BATCH_EVENTS) {
        immediate ??= setImmediate(flush);
      } else if (timer === undefined) {
        timer = setTimeout(flush, flushMs);
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
