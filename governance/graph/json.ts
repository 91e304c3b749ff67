import type { EdgeStats } from './aggregate.js';
import { callOutcome, failureText, type CallOutcome, type Health } from './outcome.js';
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
  /**
   * why an allowed call has no complete answer: refused, reset, timeout, identity, other (upstream), client_abort.
   * Optional in the type only: a server older than this field sends neither it nor `outcome`.
   */
  error?: string | null;
  /** in_flight, ok, error (5xx or no complete answer: status and message say why) or refused */
  outcome?: CallOutcome;
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
  /** allowed calls that failed (5xx or no complete answer) */
  errors?: number;
}

/** One side of an agent's traffic in the aggregate: the calls it received (in) or made (out). */
export interface NodeSideJSON {
  calls: number;
  errors: number;
  refusals: number;
}

export interface AggregateNodeJSON {
  id: string;
  name: string;
  onCycle: boolean;
  /** calls to this agent, and calls it made */
  in: NodeSideJSON;
  out: NodeSideJSON;
  /** share of the calls to it that failed (outcome.ts ratesOf); share of its own attempts that were refused */
  errorRate: number;
  refusalRate: number;
  health: Health;
}

export type AggregateEdgeJSON = EdgeStats & { fromName: string; toName: string; errorRate: number; refusalRate: number; health: Health };

export interface AggregateJSON {
  at: number;
  windowMs: number;
  /** the span the figures cover: the window, or the requested range rounded up to whole buckets */
  rangeMs?: number;
  costUnit: string;
  nodes: AggregateNodeJSON[];
  edges: AggregateEdgeJSON[];
  /** delegation loops cut (refusals for reason "loop") in the range: cut loops are not live cycles */
  loopsCut?: number;
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
    // stored in arrival order: another replica's calls arrive a batch later (gateway/graph-stream.ts)
    calls: [...callsOf(t)]
      .sort((x, y) => x.start - y.start)
      .map((c) => {
        const outcome = callOutcome(c);
        return {
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
          // a failed call says why in words (refusals carry their own message)
          message: c.message ?? (outcome === 'error' ? failureText(c.error, c.status) : null),
          cost: c.cost,
          costInclusive: c.costInclusive,
          traceId: c.traceId ?? null,
          error: c.error ?? null,
          outcome,
          taskId: c.taskId ?? null,
          contextId: c.contextId ?? null,
        };
      }),
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
    errors: failedCalls(t),
  };
}

function failedCalls(t: TaskTree): number {
  let n = 0;
  for (const c of callsOf(t)) if (c.decision === 'allowed' && callOutcome(c) === 'error') n++;
  return n;
}
