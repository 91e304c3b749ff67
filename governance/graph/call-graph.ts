import { shortName } from '../../certs/spiffe-id.js';
import { AggregateGraph, type EdgeTotals } from './aggregate.js';
import { aggregateToDot, taskToDot } from './dot.js';
import { taskSummary, taskToJSON, type AggregateJSON, type AggregateNodeJSON, type TaskSummaryJSON, type TaskTreeJSON } from './json.js';
import { callOutcome, failureText, healthOf, ratesOf, type CallOutcome, type Health } from './outcome.js';
import { callsOf, TaskTrees } from './tree.js';

/** A refusal that has no place in a task tree (refused before the delegation stage, or its task unknown). */
export interface RefusalNote {
  at: number;
  from: string;
  to: string;
  method: string;
  status: number;
  reason: string;
}

/** One recent call to or from an agent, for the page's detail panel. */
export interface RecentCallJSON {
  at: number;
  rootTaskId: string | null;
  callId: string | null;
  caller: string;
  callerName: string;
  callee: string;
  calleeName: string;
  method: string;
  status: number | null;
  outcome: CallOutcome;
  reason: string | null;
  message: string | null;
  durationMs: number | null;
}

export type DetailStatsJSON = EdgeTotals & { callsPerSecond: number; errorRate: number; refusalRate: number; health: Health };

/** What the page shows for a clicked agent (its calls in and out) or edge. */
export interface DetailJSON {
  at: number;
  rangeMs: number;
  kind: 'agent' | 'edge';
  agent?: { id: string; name: string };
  from?: { id: string; name: string };
  to?: { id: string; name: string };
  /** agent: the calls it received and made; edge: the calls along it */
  in?: DetailStatsJSON;
  out?: DetailStatsJSON;
  edge?: DetailStatsJSON;
  /** newest first, from the recent task trees and the refusals that have no tree */
  recentCalls: RecentCallJSON[];
}

/** refusals kept for detail panels when they are in no task tree (memory bound) */
const REFUSAL_NOTES = 256;

export interface CallGraphOptions {
  /** config graph.recentTasks */
  recentTasks: number;
  /** config graph.maxCallsPerTask */
  maxCallsPerTask: number;
  /** config graph.window (ms) */
  windowMs: number;
  /** config delegation.costUnit */
  costUnit: string;
  /** display name for a SPIFFE ID (agent name from config, else the last path segment) */
  nameOf?: (id: string) => string;
  /** a new aggregate cycle appeared: log a warning with the path */
  onCycle?: (path: string[], names: string[]) => void;
  /** gauge tollgate_call_graph_cycles */
  onCyclesChanged?: (n: number) => void;
}

/** Per-task trees + the aggregate graph, and their JSON/DOT views (what /graph serves). */
export class CallGraph {
  readonly trees: TaskTrees;
  readonly aggregate: AggregateGraph;
  private costUnit: string;
  nameOf: (id: string) => string;
  /** ring of refusals without a tree record (see noteRefusal) */
  private readonly notes: (RefusalNote | undefined)[] = new Array<RefusalNote | undefined>(REFUSAL_NOTES);
  private noteNext = 0;

  constructor(opts: CallGraphOptions) {
    this.nameOf = opts.nameOf ?? shortName;
    this.costUnit = opts.costUnit;
    this.trees = new TaskTrees({ maxTasks: opts.recentTasks, maxCallsPerTask: opts.maxCallsPerTask });
    this.aggregate = new AggregateGraph({
      windowMs: opts.windowMs,
      onCycle: opts.onCycle
        ? (p) =>
            opts.onCycle!(
              p,
              p.map((id) => this.nameOf(id)),
            )
        : undefined,
      onCyclesChanged: opts.onCyclesChanged,
    });
  }

  reconfigure(opts: Pick<CallGraphOptions, 'recentTasks' | 'maxCallsPerTask' | 'windowMs' | 'costUnit'> & { nameOf?: (id: string) => string }): void {
    this.trees.resize({ maxTasks: opts.recentTasks, maxCallsPerTask: opts.maxCallsPerTask });
    this.aggregate.setWindow(opts.windowMs);
    this.costUnit = opts.costUnit;
    if (opts.nameOf) this.nameOf = opts.nameOf;
  }

  /** Closed cycle paths (SPIFFE IDs) in the aggregate graph. */
  cycles(): string[][] {
    return this.aggregate.cycles();
  }

  taskJSON(rootTaskId: string): TaskTreeJSON | undefined {
    const t = this.trees.get(rootTaskId);
    return t && taskToJSON(t, this.costUnit, this.nameOf);
  }

  /** Recent tasks, most recent first (at most `limit`). */
  tasksJSON(limit = Infinity): TaskSummaryJSON[] {
    const all = this.trees.list();
    return all
      .slice(Math.max(0, all.length - limit))
      .reverse()
      .map(taskSummary);
  }

  /** The aggregate over the window, or over its last `rangeMs` (rounded up to whole buckets). */
  aggregateJSON(now: number, rangeMs?: number): AggregateJSON {
    const edges = this.aggregate.edgeStats(now, rangeMs);
    const nodes = new Map<string, AggregateNodeJSON>();
    const node = (id: string): AggregateNodeJSON => {
      let n = nodes.get(id);
      if (n === undefined) {
        const side = () => ({ calls: 0, errors: 0, refusals: 0 });
        n = { id, name: this.nameOf(id), onCycle: this.aggregate.isOnCycle(id), in: side(), out: side(), errorRate: 0, refusalRate: 0, health: 'ok' };
        nodes.set(id, n);
      }
      return n;
    };
    const abortsIn = new Map<string, number>();
    let loopsCut = 0;
    for (const e of edges) {
      const out = node(e.from).out;
      const into = node(e.to).in;
      for (const side of [out, into]) {
        side.calls += e.calls;
        side.errors += e.errors;
        side.refusals += e.refusals;
      }
      abortsIn.set(e.to, (abortsIn.get(e.to) ?? 0) + (e.errorsByKind.client_abort ?? 0));
      loopsCut += e.refusalsByReason.loop ?? 0;
    }
    for (const n of nodes.values()) {
      // as a callee: the share of calls to it that failed; as a caller: the share of its attempts refused
      const r = {
        errorRate: ratesOf(n.in.calls, n.in.errors, 0, { client_abort: abortsIn.get(n.id) ?? 0 }).errorRate,
        refusalRate: ratesOf(n.out.calls, 0, n.out.refusals, {}).refusalRate,
      };
      n.errorRate = r.errorRate;
      n.refusalRate = r.refusalRate;
      n.health = healthOf(r);
    }
    return {
      at: now,
      windowMs: this.aggregate.windowSizeMs,
      rangeMs: this.aggregate.rangeSpanMs(rangeMs),
      costUnit: this.costUnit,
      nodes: [...nodes.values()],
      edges: edges.map((e) => {
        const r = ratesOf(e.calls, e.errors, e.refusals, e.errorsByKind);
        return { ...e, fromName: this.nameOf(e.from), toName: this.nameOf(e.to), ...r, health: healthOf(r) };
      }),
      cycles: this.aggregate.cycles().map((ids) => ({ ids, names: ids.map((id) => this.nameOf(id)) })),
      loopsCut,
      recentTasks: this.tasksJSON(20),
    };
  }

  /**
   * Remember a refusal that no task tree records (made before the delegation stage, or for a call whose task is
   * unknown), so an agent's recent calls show it. A fixed ring: nothing grows.
   */
  noteRefusal(n: RefusalNote): void {
    this.notes[this.noteNext] = n;
    this.noteNext = (this.noteNext + 1) % REFUSAL_NOTES;
  }

  /** An agent by SPIFFE ID or by name (as the graph names it); undefined when nothing in the window matches. */
  resolveAgent(idOrName: string, now: number): string | undefined {
    const ids = new Set<string>();
    for (const e of this.aggregate.edgeStats(now)) {
      ids.add(e.from);
      ids.add(e.to);
    }
    if (ids.has(idOrName)) return idOrName;
    for (const id of ids) if (this.nameOf(id) === idOrName) return id;
    return undefined;
  }

  /** Rates, latency percentiles, refusals by reason and recent calls of one agent (SPIFFE ID). */
  agentDetail(id: string, now: number, rangeMs?: number, recent = 20): DetailJSON {
    const span = this.aggregate.rangeSpanMs(rangeMs);
    return {
      at: now,
      rangeMs: span,
      kind: 'agent',
      agent: { id, name: this.nameOf(id) },
      in: this.detailStats(
        this.aggregate.totalsOf(now, (_f, t) => t === id, rangeMs),
        span,
      ),
      out: this.detailStats(
        this.aggregate.totalsOf(now, (f) => f === id, rangeMs),
        span,
      ),
      recentCalls: this.recentCalls((f, t) => f === id || t === id, now - span, recent),
    };
  }

  /** The same for one caller -> callee edge (SPIFFE IDs). */
  edgeDetail(from: string, to: string, now: number, rangeMs?: number, recent = 20): DetailJSON {
    const span = this.aggregate.rangeSpanMs(rangeMs);
    return {
      at: now,
      rangeMs: span,
      kind: 'edge',
      from: { id: from, name: this.nameOf(from) },
      to: { id: to, name: this.nameOf(to) },
      edge: this.detailStats(
        this.aggregate.totalsOf(now, (f, t) => f === from && t === to, rangeMs),
        span,
      ),
      recentCalls: this.recentCalls((f, t) => f === from && t === to, now - span, recent),
    };
  }

  private detailStats(t: EdgeTotals, spanMs: number): DetailStatsJSON {
    const r = ratesOf(t.calls, t.errors, t.refusals, t.errorsByKind);
    return { ...t, callsPerSecond: t.calls / Math.max(1, spanMs / 1000), ...r, health: healthOf(r) };
  }

  /** Newest first: calls in the recent task trees and noted refusals that `match`, started at or after `since`. */
  recentCalls(match: (from: string, to: string) => boolean, since: number, limit: number): RecentCallJSON[] {
    const out: RecentCallJSON[] = [];
    const trees = this.trees.list();
    // newest trees first; enough candidates to sort (calls of a newer tree can be older than another's)
    for (let i = trees.length - 1; i >= 0 && out.length < 4 * limit; i--) {
      const t = trees[i];
      for (const c of callsOf(t)) {
        if (c.start < since || !match(c.caller, c.callee)) continue;
        const outcome = callOutcome(c);
        out.push({
          at: c.start,
          rootTaskId: t.rootTaskId,
          callId: c.id,
          caller: c.caller,
          callerName: c.callerName,
          callee: c.callee,
          calleeName: c.calleeName,
          method: c.method,
          status: c.status ?? null,
          outcome,
          reason: c.reason ?? c.error ?? null,
          message: c.message ?? (outcome === 'error' ? failureText(c.error, c.status) : null),
          durationMs: c.durationMs ?? null,
        });
      }
    }
    for (const n of this.notes) {
      if (n === undefined || n.at < since || !match(n.from, n.to)) continue;
      out.push({
        at: n.at,
        rootTaskId: null,
        callId: null,
        caller: n.from,
        callerName: this.nameOf(n.from),
        callee: n.to,
        calleeName: this.nameOf(n.to),
        method: n.method,
        status: n.status,
        outcome: 'refused',
        reason: n.reason,
        message: null,
        durationMs: null,
      });
    }
    return out.sort((a, b) => b.at - a.at).slice(0, limit);
  }

  taskDot(rootTaskId: string): string | undefined {
    const t = this.taskJSON(rootTaskId);
    return t && taskToDot(t);
  }

  aggregateDot(now: number): string {
    return aggregateToDot(this.aggregateJSON(now));
  }
}
