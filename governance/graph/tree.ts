import { Lru } from './lru.js';

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
  status: number | undefined;
  durationMs: number | undefined;
  /** cost reported for this call itself */
  cost: number;
  /** this call plus every call below it */
  costInclusive: number;
  traceId: string | undefined;
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
  readonly calls: Map<string, CallRecord>;
  droppedCalls: number;
  refused: number;
  cost: number;
  cancelled: boolean;
  loops: LoopCut[];
}

export interface TaskTreesOptions {
  maxTasks: number;
  maxCallsPerTask: number;
}

export class TaskTrees {
  private trees = new Lru<string, TaskTree>();
  private maxTasks: number;
  private maxCallsPerTask: number;

  constructor(opts: TaskTreesOptions) {
    this.maxTasks = opts.maxTasks;
    this.maxCallsPerTask = opts.maxCallsPerTask;
  }

  resize(opts: TaskTreesOptions): void {
    this.maxTasks = opts.maxTasks;
    this.maxCallsPerTask = opts.maxCallsPerTask;
    while (this.trees.size > this.maxTasks) this.trees.shift();
  }

  /** The tree for a task, created (evicting the least recently used) if absent; touched either way. */
  ensure(rootTaskId: string, initiator: string, initiatorName: string, startedAt: number): TaskTree {
    let t = this.trees.get(rootTaskId);
    if (t) {
      this.trees.touch(rootTaskId);
      return t;
    }
    if (this.trees.size >= this.maxTasks) this.trees.shift();
    t = { rootTaskId, initiator, initiatorName, startedAt, calls: new Map(), droppedCalls: 0, refused: 0, cost: 0, cancelled: false, loops: [] };
    this.trees.set(rootTaskId, t);
    return t;
  }

  get(rootTaskId: string): TaskTree | undefined {
    return this.trees.get(rootTaskId);
  }

  /** Most recent last. */
  list(): TaskTree[] {
    return this.trees.values();
  }

  /** Record a call (allowed or refused). Returns false if the tree is full (counted as dropped). */
  add(tree: TaskTree, rec: CallRecord): boolean {
    if (rec.decision === 'refused') tree.refused++;
    if (tree.calls.size >= this.maxCallsPerTask) {
      tree.droppedCalls++;
      return false;
    }
    tree.calls.set(rec.id, rec);
    return true;
  }

  finish(rootTaskId: string, callId: string, status: number, durationMs: number): void {
    const rec = this.trees.get(rootTaskId)?.calls.get(callId);
    if (!rec) return;
    rec.status = status;
    rec.durationMs = durationMs;
  }

  /** Mark a call that was allowed here but refused by a later stage. */
  markRefused(rootTaskId: string, callId: string, status: number, reason: string): void {
    const tree = this.trees.get(rootTaskId);
    const rec = tree?.calls.get(callId);
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
    let rec = tree.calls.get(callId);
    if (rec) rec.cost += amount;
    else rec = parentCallId !== undefined ? tree.calls.get(parentCallId) : undefined;
    // the chain is at most maxDepth (64) long; the guard also stops a malformed parent cycle
    for (let hops = 0; rec && hops <= 65; hops++) {
      rec.costInclusive += amount;
      rec = rec.parent !== undefined ? tree.calls.get(rec.parent) : undefined;
    }
  }

  size(): number {
    return this.trees.size;
  }

  /** Calls stored across all trees (memory checks). */
  callCount(): number {
    let n = 0;
    this.trees.walkOldest((t) => {
      n += t.calls.size;
    });
    return n;
  }
}
