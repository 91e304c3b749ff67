/**
 * The call graph as a stream of plain events, so several processes (workers, replicas) can show one graph:
 * each publishes what its delegation stage records (gateway/graph-stream.ts carries them over Redis) and
 * applies what the others publish with applyGraphEvent, exactly as its own stage would have recorded it.
 * The per-task trees, the sliding aggregate and its cycle detection then cover the whole fleet.
 */
import type { CallGraph } from './call-graph.js';
import { errorKindOf, isFailure } from './outcome.js';
import type { A2aIds, CallRecord, LoopCut } from './tree.js';

export interface TaskRef {
  root: string;
  initiator: string;
  initiatorName: string;
  rootStart: number;
}

export type GraphEvent =
  /** an allowed call: into its task's tree and the aggregate (a push without a task: the aggregate only) */
  | { k: 'call'; task?: TaskRef; rec: CallRecord }
  /** a refusal by the delegation stage (into the tree when the task was known), or by an earlier stage (aggregate only) */
  | {
      k: 'refused';
      from: string;
      to: string;
      at: number;
      task?: TaskRef;
      rec?: CallRecord;
      loop?: LoopCut;
      cancelled?: boolean;
      /** the refusal (absent in events from older versions) */
      reason?: string;
      status?: number;
      method?: string;
    }
  /** an allowed call ended: status 0 = no response; err = why there was no complete answer (upstream error kind) */
  | { k: 'end'; from: string; to: string; at: number; root?: string; call: string; status: number; dur: number; err?: string; a2a?: A2aIds }
  /** an allowed call refused by a later stage (nothing was forwarded) */
  | { k: 'undo'; from: string; to: string; at: number; root?: string; call: string; status: number; reason: string }
  | { k: 'cost'; root: string; call: string; parent?: string; amount: number }
  | { k: 'cancel'; root: string };

/** Apply another process's event to this process's graph. */
export function applyGraphEvent(graph: CallGraph, e: GraphEvent): void {
  const trees = graph.trees;
  switch (e.k) {
    case 'call': {
      const t = e.task;
      if (t !== undefined) trees.add(trees.ensure(t.root, t.initiator, t.initiatorName, t.rootStart), { ...e.rec });
      graph.aggregate.recordCall(e.rec.caller, e.rec.callee, e.rec.start);
      return;
    }
    case 'refused': {
      graph.aggregate.recordRefusal(e.from, e.to, e.at, e.reason ?? e.rec?.reason);
      if (!(e.task && e.rec) && e.reason !== undefined)
        graph.noteRefusal({ at: e.at, from: e.from, to: e.to, method: e.method ?? 'unknown', status: e.status ?? 0, reason: e.reason });
      if (e.task && e.rec) {
        const tree = trees.ensure(e.task.root, e.task.initiator, e.task.initiatorName, e.task.rootStart);
        if (e.cancelled) tree.cancelled = true;
        trees.add(tree, { ...e.rec });
        if (e.loop) tree.loops.push(e.loop);
      }
      return;
    }
    case 'end': {
      if (e.root !== undefined) trees.finish(e.root, e.call, e.status, e.dur, e.err, e.a2a);
      const failed = isFailure(e.status, e.err);
      graph.aggregate.recordResult(e.from, e.to, e.at, e.dur, failed, failed ? errorKindOf(e.status, e.err) : undefined);
      return;
    }
    case 'undo':
      if (e.root !== undefined) trees.markRefused(e.root, e.call, e.status, e.reason);
      graph.aggregate.recordRefusal(e.from, e.to, e.at, e.reason);
      return;
    case 'cost':
      trees.addCost(e.root, e.call, e.parent, e.amount);
      return;
    case 'cancel': {
      const tree = trees.get(e.root);
      if (tree) tree.cancelled = true;
      return;
    }
  }
}
