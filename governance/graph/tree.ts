import { LinkedLru, type LruLinks } from './lru.js';

/**
 * Per root task: the tree of calls, for the most recent `maxTasks` tasks and at most `maxCallsPerTask` calls
 * each (later calls are only counted in `droppedCalls`, but their cost still rolls up into the stored ancestors).
 */
export type CallDecision = 'allowed' | 'refused';

export interface CallRecord {
  readonly id: string;
  readonly parent: string | undefined;
  readonly caller: string;
  readonly callerName: string;
  readonly callee: string;
  readonly calleeName: string;
  readonly method: string;
  readonly depth: number;
  readonly start: number;
  decision: CallDecision;
  reason: string | undefined;
  message: string | undefined;
  /** HTTP status the caller got (a 502/504 the gateway wrote when the upstream failed; undefined while in flight) */
  status: number | undefined;
  durationMs: number | undefined;
  /**
   * why an allowed call failed without a complete answer: the upstream error kind (refused, reset, timeout,
   * identity, other) or client_abort; undefined for a call that got its answer (whatever its status)
   */
  error?: string | undefined;
  /** cost reported for this call itself */
  cost: number;
  /** this call plus every call below it */
  costInclusive: number;
  traceId: string | undefined;
  /** the A2A task the call named, or the one its answer created (not the root task: that is the tree's) */
  taskId?: string;
  /** the A2A context of that call or task */
  contextId?: string;
}

/**
 * The record of an allowed call as it starts: the one place that builds it (the delegation stage for calls
 * and pushes, and a peer's call read from the graph stream), so every record has the same fields in the same
 * order. Positional, as it runs once per governed call: no options object to allocate.
 */
export function allowedCallRecord(
  id: string,
  parent: string | undefined,
  caller: string,
  callerName: string,
  callee: string,
  calleeName: string,
  method: string,
  depth: number,
  start: number,
  traceId: string | undefined,
): CallRecord {
  return {
    id,
    parent,
    caller,
    callerName,
    callee,
    calleeName,
    method,
    depth,
    start,
    decision: 'allowed',
    reason: undefined,
    message: undefined,
    status: undefined,
    durationMs: undefined,
    error: undefined,
    cost: 0,
    costInclusive: 0,
    traceId,
  };
}

/** The A2A task and context of a call, when it has them ('' or absent: none). */
export interface A2aIds {
  taskId?: string;
  contextId?: string;
}

export interface LoopCut {
  callId: string;
  /** the closing edge */
  from: string;
  to: string;
  /** closed path of SPIFFE IDs, e.g. [orchestrator, researcher, orchestrator] */
  cycle: string[];
}

export interface TaskTree {
  readonly rootTaskId: string;
  readonly initiator: string;
  readonly initiatorName: string;
  readonly startedAt: number;
  /** every stored call by id (for readers outside the hot path: callsOf / callCountOf / callOf read it without building a map) */
  readonly calls: Map<string, CallRecord>;
  droppedCalls: number;
  refused: number;
  cost: number;
  cancelled: boolean;
  loops: LoopCut[];
}

/**
 * A task's tree, cheap while it holds one call. Under a load where every call starts a task (most trees
 * stay at their root call), a Map and a loops array per tree were two of the objects the call graph kept
 * per task for graph.recentTasks tasks, all of them copied in scavenges and promoted: so the only call
 * is held in a field, the Map is made when a second call arrives (or `calls` is read), and the loops array
 * when a loop is first cut (or `loops` is read). What the tree holds and reports is the same.
 */
class Tree implements TaskTree, LruLinks<Tree> {
  droppedCalls = 0;
  refused = 0;
  cost = 0;
  cancelled = false;
  lruOlder: Tree | undefined = undefined;
  lruNewer: Tree | undefined = undefined;
  /** the tree's only call while `many` is undefined */
  one: CallRecord | undefined = undefined;
  /** every call, once there were two (or `calls` was read) */
  many: Map<string, CallRecord> | undefined = undefined;
  /**
   * cost that stopped rolling up at a call not (yet) in the tree, by that call's id: taken in when it is
   * added. A call forwarded by another replica arrives here up to a batch later (gateway/graph-stream.ts)
   * than the cost of a child call forwarded here; without this its inclusive cost would miss it for good.
   */
  owed: Map<string, number> | undefined = undefined;
  private loopList: LoopCut[] | undefined = undefined;

  constructor(
    readonly rootTaskId: string,
    readonly initiator: string,
    readonly initiatorName: string,
    readonly startedAt: number,
  ) {}

  get calls(): Map<string, CallRecord> {
    return this.promote();
  }

  get loops(): LoopCut[] {
    return (this.loopList ??= []);
  }

  set loops(v: LoopCut[]) {
    this.loopList = v;
  }

  /** the loops cut so far, without creating the array */
  loopsIfAny(): readonly LoopCut[] {
    return this.loopList ?? NO_LOOPS;
  }

  size(): number {
    return this.many !== undefined ? this.many.size : this.one !== undefined ? 1 : 0;
  }

  get(id: string): CallRecord | undefined {
    if (this.many !== undefined) return this.many.get(id);
    return this.one !== undefined && this.one.id === id ? this.one : undefined;
  }

  put(rec: CallRecord): void {
    if (this.many === undefined && (this.one === undefined || this.one.id === rec.id)) this.one = rec;
    else this.promote().set(rec.id, rec);
  }

  promote(): Map<string, CallRecord> {
    if (this.many === undefined) {
      this.many = new Map();
      if (this.one !== undefined) this.many.set(this.one.id, this.one);
      this.one = undefined;
    }
    return this.many;
  }
}

const NO_LOOPS: readonly LoopCut[] = Object.freeze([]);
const NO_CALLS: readonly CallRecord[] = Object.freeze([]);

function asTree(t: TaskTree): Tree | undefined {
  return t instanceof Tree ? t : undefined;
}

/** The stored calls of a tree, in the order they were added. */
export function callsOf(t: TaskTree): Iterable<CallRecord> {
  const tree = asTree(t);
  if (tree === undefined) return t.calls.values();
  if (tree.many !== undefined) return tree.many.values();
  return tree.one !== undefined ? [tree.one] : NO_CALLS;
}

/** How many calls a tree stores. */
export function callCountOf(t: TaskTree): number {
  return asTree(t)?.size() ?? t.calls.size;
}

/** The loops cut in a tree. */
export function loopsOf(t: TaskTree): readonly LoopCut[] {
  return asTree(t)?.loopsIfAny() ?? t.loops;
}

export interface TaskTreesOptions {
  maxTasks: number;
  maxCallsPerTask: number;
}

export class TaskTrees {
  /** use order (the links live in the trees: no node object per tree) */
  private trees = new LinkedLru<string, Tree>();
  private maxTasks: number;
  private maxCallsPerTask: number;

  constructor(opts: TaskTreesOptions) {
    this.maxTasks = opts.maxTasks;
    this.maxCallsPerTask = opts.maxCallsPerTask;
  }

  resize(opts: TaskTreesOptions): void {
    this.maxTasks = opts.maxTasks;
    this.maxCallsPerTask = opts.maxCallsPerTask;
    while (this.trees.size > this.maxTasks) this.trees.shift(keyOf);
  }

  /** The tree for a task, created (evicting the least recently used) if absent; touched either way. */
  ensure(rootTaskId: string, initiator: string, initiatorName: string, startedAt: number): TaskTree {
    const t = this.trees.get(rootTaskId);
    if (t) {
      this.trees.touch(t);
      return t;
    }
    return this.create(rootTaskId, initiator, initiatorName, startedAt);
  }

  /**
   * The tree of a task that has none yet (a root task just started: its id is fresh), evicting the least
   * recently used: ensure() without the lookup. A tree already there under this id is replaced.
   */
  create(rootTaskId: string, initiator: string, initiatorName: string, startedAt: number): TaskTree {
    if (this.trees.size >= this.maxTasks) this.trees.shift(keyOf);
    const t = new Tree(rootTaskId, initiator, initiatorName, startedAt);
    this.trees.add(rootTaskId, t, keyOf);
    return t;
  }

  get(rootTaskId: string): TaskTree | undefined {
    return this.trees.get(rootTaskId);
  }

  /** Most recent last. */
  list(): TaskTree[] {
    return this.trees.values();
  }

  /** the tree's own record of a call, or undefined */
  private record(rootTaskId: string, callId: string): CallRecord | undefined {
    return this.trees.get(rootTaskId)?.get(callId);
  }

  /** Record a call (allowed or refused). Returns false if the tree is full (counted as dropped). */
  add(tree: TaskTree, rec: CallRecord): boolean {
    if (rec.decision === 'refused') tree.refused++;
    const t = asTree(tree);
    if ((t !== undefined ? t.size() : tree.calls.size) >= this.maxCallsPerTask) {
      tree.droppedCalls++;
      return false;
    }
    if (t !== undefined) {
      t.put(rec);
      const owed = t.owed?.get(rec.id);
      if (owed !== undefined) {
        t.owed!.delete(rec.id);
        TaskTrees.rollUp(t, rec, owed);
      }
    } else tree.calls.set(rec.id, rec);
    return true;
  }

  finish(rootTaskId: string, callId: string, status: number, durationMs: number, error?: string, a2a?: A2aIds): void {
    const rec = this.record(rootTaskId, callId);
    if (rec) TaskTrees.finishRecord(rec, status, durationMs, error, a2a);
  }

  /**
   * finish() for the record add() stored, held by the caller: no lookups. A record whose tree has since
   * been evicted is no longer shown anywhere, so updating it changes nothing visible, as finish() would not.
   */
  static finishRecord(rec: CallRecord, status: number, durationMs: number, error?: string, a2a?: A2aIds): void {
    rec.status = status;
    rec.durationMs = durationMs;
    if (error !== undefined) rec.error = error;
    // the answer may have created the call's A2A task: known only now
    if (a2a !== undefined) {
      if (a2a.taskId) rec.taskId = a2a.taskId;
      if (a2a.contextId) rec.contextId = a2a.contextId;
    }
  }

  /** Mark a call that was allowed here but refused by a later stage. */
  markRefused(rootTaskId: string, callId: string, status: number, reason: string): void {
    const tree = this.trees.get(rootTaskId);
    const rec = tree?.get(callId);
    if (!tree || !rec || rec.decision === 'refused') return;
    rec.decision = 'refused';
    rec.reason = reason;
    rec.status = status;
    tree.refused++;
  }

  /**
   * Inclusive roll-up: the call's own cost, then every ancestor's inclusive cost. If the call itself was not
   * stored (tree full), the roll-up starts at its parent.
   */
  addCost(rootTaskId: string, callId: string, parentCallId: string | undefined, amount: number): void {
    const tree = this.trees.get(rootTaskId);
    if (!tree) return;
    tree.cost += amount;
    const rec = tree.get(callId);
    if (rec) {
      rec.cost += amount;
      TaskTrees.rollUp(tree, rec, amount);
    } else if (parentCallId !== undefined) {
      const parent = tree.get(parentCallId);
      if (parent) TaskTrees.rollUp(tree, parent, amount);
      else TaskTrees.owe(tree, parentCallId, amount);
    }
  }

  /** `amount` into the inclusive cost of `rec` and of each ancestor; owed to the first one not in the tree. */
  private static rollUp(tree: Tree, rec: CallRecord, amount: number): void {
    // the chain is at most maxDepth (64) long; the guard also stops a malformed parent cycle
    let r: CallRecord | undefined = rec;
    for (let hops = 0; r && hops <= 65; hops++) {
      r.costInclusive += amount;
      const parent: string | undefined = r.parent;
      if (parent === undefined) return;
      r = tree.get(parent);
      if (r === undefined) TaskTrees.owe(tree, parent, amount);
    }
  }

  private static owe(tree: Tree, callId: string, amount: number): void {
    const owed = (tree.owed ??= new Map<string, number>());
    owed.set(callId, (owed.get(callId) ?? 0) + amount);
  }

  size(): number {
    return this.trees.size;
  }

  /** Calls stored across all trees (memory checks). */
  callCount(): number {
    let n = 0;
    this.trees.walkOldest((t) => {
      n += t.size();
    });
    return n;
  }
}

function keyOf(t: TaskTree): string {
  return t.rootTaskId;
}
