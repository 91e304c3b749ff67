import type { EdgeStats } from './aggregate.js';
import { callCountOf, callsOf, loopsOf, type TaskTree } from './tree.js';

/**
 * The wire shapes of the graph (HTTP /graph and /graph/tasks/<id>, `tollgate graph`). The DOT and text
 * formatters take these plain shapes, so the CLI can render what it fetched without the live objects.
 */
export interface CallJSON {
  id: string;
  parent: string | null;
  caller: string;
  callerName: string;
  callee: string;
  calleeName: string;
  method: string;
  depth: number;
  start: number;
  status: number | null;
  durationMs: number | null;
  decision: 'allowed' | 'refused';
  reason: string | null;
  message: string | null;
  cost: number;
  costInclusive: number;
  traceId: string | null;
  /** the A2A task the call named or created (absent from graphs written before it was recorded) */
  taskId?: string | null;
  /** the A2A context of that call or task */
  contextId?: string | null;
}

export interface LoopJSON {
  callId: string;
  from: string;
  to: string;
  fromName: string;
  toName: string;
  cycle: string[];
  cycleNames: string[];
}

export interface TaskTreeJSON {
  rootTaskId: string;
  initiator: { id: string; name: string };
  startedAt: number;
  costUnit: string;
  cancelled: boolean;
  totals: { calls: number; refused: number; cost: number; droppedCalls: number };
  loops: LoopJSON[];
  /** in start order; a call whose parent is absent (tree full, or adopted after a restart) is a top-level call */
  calls: CallJSON[];
}

export interface TaskSummaryJSON {
  rootTaskId: string;
  initiator: { id: string; name: string };
  startedAt: number;
  calls: number;
  refused: number;
  cost: number;
  loops: number;
  cancelled: boolean;
}

export interface AggregateJSON {
  at: number;
  windowMs: number;
  costUnit: string;
  nodes: { id: string; name: string; onCycle: boolean }[];
  edges: (EdgeStats & { fromName: string; toName: string })[];
  /** closed paths, e.g. ids [a, b, a] */
  cycles: { ids: string[]; names: string[] }[];
  /** the most recent tasks (newest first, at most 20): ids for `tollgate graph --task ID` */
  recentTasks?: TaskSummaryJSON[];
}

export function taskToJSON(t: TaskTree, costUnit: string, nameOf: (id: string) => string): TaskTreeJSON {
  return {
    rootTaskId: t.rootTaskId,
    initiator: { id: t.initiator, name: t.initiatorName },
    startedAt: t.startedAt,
    costUnit,
    cancelled: t.cancelled,
    totals: { calls: callCountOf(t) + t.droppedCalls, refused: t.refused, cost: t.cost, droppedCalls: t.droppedCalls },
    loops: loopsOf(t).map((l) => ({
      callId: l.callId,
      from: l.from,
      to: l.to,
      fromName: nameOf(l.from),
      toName: nameOf(l.to),
      cycle: l.cycle,
      cycleNames: l.cycle.map(nameOf),
    })),
    calls: [...callsOf(t)].map((c) => ({
      id: c.id,
      parent: c.parent ?? null,
      caller: c.caller,
      callerName: c.callerName,
      callee: c.callee,
      calleeName: c.calleeName,
      method: c.method,
      depth: c.depth,
      start: c.start,
      status: c.status ?? null,
      durationMs: c.durationMs ?? null,
      decision: c.decision,
      reason: c.reason ?? null,
      message: c.message ?? null,
      cost: c.cost,
      costInclusive: c.costInclusive,
      traceId: c.traceId ?? null,
      taskId: c.taskId ?? null,
      contextId: c.contextId ?? null,
    })),
  };
}

export function taskSummary(t: TaskTree): TaskSummaryJSON {
  return {
    rootTaskId: t.rootTaskId,
    initiator: { id: t.initiator, name: t.initiatorName },
    startedAt: t.startedAt,
    calls: callCountOf(t) + t.droppedCalls,
    refused: t.refused,
    cost: t.cost,
    loops: loopsOf(t).length,
    cancelled: t.cancelled,
  };
}
