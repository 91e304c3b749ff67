/**
 * The graph events of one process (feed.ts) packed for other processes, and unpacked into their graphs.
 *
 * Every process of a fleet applies every other process's calls, so what a call costs here is paid once per
 * process for each call of the fleet. A batch is therefore one flat JSON array, not one object per event:
 * - a call and its end are one row when the call ends before the batch is sent (nearly always: batches are
 *   sent every ~100 ms), so the usual call is one row, not two events;
 * - the strings that repeat from call to call (SPIFFE IDs, names, the method, error kinds) are sent once per
 *   batch, rows carry their index; times are milliseconds from the batch's base, so they stay small integers;
 * - the values are copied when the event happens (the stage changes its own records afterwards: a record
 *   read later, as the JSON events were, could already carry the cost that a later event adds again).
 * Rarer events (refusals, undo, cost, cancel) travel as the feed's own objects and are applied by
 * applyGraphEvent, as before.
 *
 * Layout: [WIRE_VERSION, base, strings, rows], rows a flat array of CALL (CALL_FIELDS values), END
 * (END_FIELDS) and EVENT (2: kind, the GraphEvent) rows, each starting with its kind.
 */
import type { CallGraph } from './call-graph.js';
import { applyGraphEvent, type GraphEvent } from './feed.js';
import { errorKindOf, isFailure } from './outcome.js';
import { TaskTrees, allowedCallRecord } from './tree.js';

export const WIRE_VERSION = 2;

const CALL = 0;
const END = 1;
const EVENT = 2;
/** kind, root, initiator, initiatorName, rootStart, id, parent, caller, callerName, callee, calleeName, method, depth, start, traceId, taskId, contextId, then the end: status (-1 in flight), dur, err, a2a taskId, a2a contextId */
const CALL_FIELDS = 22;
/** where a CALL row's end starts */
const CALL_END = 17;
/** kind, from, to, at, root, call, status, dur, err, a2a taskId, a2a contextId */
const END_FIELDS = 11;

type Cell = number | string | null | GraphEvent;

/** One process's events since its last batch, packed as they happen. */
export class GraphBatch {
  private rows: Cell[] = [];
  private strings: string[] = [];
  private index = new Map<string, number>();
  /** where each call still open in this batch starts (its end is written into its row) */
  private open = new Map<string, number>();
  private base = 0;
  private hasBase = false;
  /** events in the batch (a call and its end count as two) */
  events = 0;
  /** a cancel is in it (the stream sends it at once: the kill switch's calls in flight elsewhere) */
  urgent = false;

  private str(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.index.set(s, i);
    }
    return i;
  }

  /** t as an offset from the batch's base (the first time in it): exact for the integer milliseconds of Date.now() */
  private time(t: number): number {
    if (!this.hasBase) {
      this.base = t;
      this.hasBase = true;
    }
    return t - this.base;
  }

  add(e: GraphEvent): void {
    const r = this.rows;
    if (e.k === 'call') {
      const c = e.rec;
      const t = e.task;
      const start = this.time(c.start);
      this.open.set(c.id, r.length);
      r.push(
        CALL,
        t ? t.root : null,
        t ? this.str(t.initiator) : -1,
        t ? this.str(t.initiatorName) : -1,
        t ? t.rootStart - this.base : 0,
        c.id,
        c.parent ?? null,
        this.str(c.caller),
        this.str(c.callerName),
        this.str(c.callee),
        this.str(c.calleeName),
        this.str(c.method),
        c.depth,
        start,
        c.traceId ?? null,
        c.taskId ?? null,
        c.contextId ?? null,
        -1,
        0,
        -1,
        null,
        null,
      );
    } else if (e.k === 'end') {
      const at = this.time(e.at);
      const i = this.open.get(e.call);
      const err = e.err === undefined ? -1 : this.str(e.err);
      const task = e.a2a?.taskId || null;
      const ctx = e.a2a?.contextId || null;
      if (i !== undefined && r[i + CALL_END] === -1) {
        r[i + CALL_END] = e.status;
        r[i + CALL_END + 1] = e.dur;
        r[i + CALL_END + 2] = err;
        r[i + CALL_END + 3] = task;
        r[i + CALL_END + 4] = ctx;
      } else {
        r.push(END, this.str(e.from), this.str(e.to), at, e.root ?? null, e.call, e.status, e.dur, err, task, ctx);
      }
    } else {
      if (e.k === 'cancel') this.urgent = true;
      r.push(EVENT, e);
    }
    this.events++;
  }

  /** The batch as text, and a fresh empty batch state. */
  take(): string {
    const text = JSON.stringify([WIRE_VERSION, this.base, this.strings, this.rows]);
    this.rows = [];
    this.strings = [];
    this.index = new Map();
    this.open = new Map();
    this.hasBase = false;
    this.base = 0;
    this.events = 0;
    this.urgent = false;
    return text;
  }
}

/**
 * Apply another process's batch (GraphBatch.take()) to this process's graph, exactly as applyGraphEvent
 * would apply its events one by one. Returns the events applied; `onCancel` hears each root task cancelled.
 * Throws on a batch it cannot read (another version).
 */
export function applyGraphBatch(graph: CallGraph, text: string, onCancel?: (rootTaskId: string) => void): number {
  const parsed = JSON.parse(text) as unknown;
  if (!Array.isArray(parsed) || parsed[0] !== WIRE_VERSION) throw new Error('graph batch: unknown format');
  const base = parsed[1] as number;
  const s = parsed[2] as string[];
  const r = parsed[3] as Cell[];
  const trees = graph.trees;
  const agg = graph.aggregate;
  let n = 0;
  for (let i = 0; i < r.length;) {
    const kind = r[i];
    if (kind === CALL) {
      const root = r[i + 1] as string | null;
      const caller = s[r[i + 7] as number];
      const callee = s[r[i + 9] as number];
      const start = base + (r[i + 13] as number);
      const status = r[i + CALL_END] as number;
      const rec = allowedCallRecord(
        r[i + 5] as string,
        (r[i + 6] as string | null) ?? undefined,
        caller,
        s[r[i + 8] as number],
        callee,
        s[r[i + 10] as number],
        s[r[i + 11] as number],
        r[i + 12] as number,
        start,
        (r[i + 14] as string | null) ?? undefined,
      );
      const taskId = r[i + 15] as string | null;
      const contextId = r[i + 16] as string | null;
      if (taskId !== null) rec.taskId = taskId;
      if (contextId !== null) rec.contextId = contextId;
      if (root !== null) {
        const tree = trees.ensure(root, s[r[i + 2] as number], s[r[i + 3] as number], base + (r[i + 4] as number));
        trees.add(tree, rec);
      }
      agg.recordCall(caller, callee, start);
      n++;
      if (status !== -1) {
        const dur = r[i + CALL_END + 1] as number;
        const errIdx = r[i + CALL_END + 2] as number;
        const err = errIdx === -1 ? undefined : s[errIdx];
        const a2aTask = r[i + CALL_END + 3] as string | null;
        const a2aCtx = r[i + CALL_END + 4] as string | null;
        TaskTrees.finishRecord(
          rec,
          status,
          dur,
          err,
          a2aTask !== null || a2aCtx !== null ? { taskId: a2aTask ?? undefined, contextId: a2aCtx ?? undefined } : undefined,
        );
        const failed = isFailure(status, err);
        agg.recordResult(caller, callee, start + dur, dur, failed, failed ? errorKindOf(status, err) : undefined);
        n++;
      }
      i += CALL_FIELDS;
    } else if (kind === END) {
      const errIdx = r[i + 8] as number;
      const a2aTask = r[i + 9] as string | null;
      const a2aCtx = r[i + 10] as string | null;
      applyGraphEvent(graph, {
        k: 'end',
        from: s[r[i + 1] as number],
        to: s[r[i + 2] as number],
        at: base + (r[i + 3] as number),
        root: (r[i + 4] as string | null) ?? undefined,
        call: r[i + 5] as string,
        status: r[i + 6] as number,
        dur: r[i + 7] as number,
        err: errIdx === -1 ? undefined : s[errIdx],
        a2a: a2aTask !== null || a2aCtx !== null ? { taskId: a2aTask ?? undefined, contextId: a2aCtx ?? undefined } : undefined,
      });
      n++;
      i += END_FIELDS;
    } else if (kind === EVENT) {
      const e = r[i + 1] as GraphEvent;
      applyGraphEvent(graph, e);
      if (e.k === 'cancel') onCancel?.(e.root);
      n++;
      i += 2;
    } else {
      throw new Error('graph batch: unknown row');
    }
  }
  return n;
}
