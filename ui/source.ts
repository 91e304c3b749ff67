import type { Config } from '../config/schema.js';
import type { CallGraph } from '../governance/graph/call-graph.js';
import type { AgentWindows } from '../governance/delegation/windows.js';
import type { GraphSource } from './server.js';

/**
 * Adapters from the gateway's live objects to the page's GraphSource. The call graph has no change events of
 * its own, so the source exposes `changed()`: call it wherever a call is recorded (it only calls the page's
 * listener, which is a flag check while a send is pending) — the page also refreshes every few seconds anyway.
 */
export interface LiveGraphSource extends GraphSource {
  /** tell subscribers the graph changed */
  changed(): void;
}

export interface GraphSourceOptions {
  graph: CallGraph;
  now: () => number;
  /** per-agent budget rows, e.g. () => agentBudgets(stage.windows, config.agents, now()) */
  budgets?: () => unknown;
}

export function createGraphSource(opts: GraphSourceOptions): LiveGraphSource {
  const listeners = new Set<() => void>();
  const { graph, now } = opts;
  return {
    aggregate: () => graph.aggregateJSON(now()),
    tasks: (limit) => graph.tasksJSON(limit),
    task: (id) => graph.taskJSON(id),
    budgets: opts.budgets,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    changed() {
      for (const l of listeners) l();
    },
  };
}

/** One window of one agent: the sliding-window value and its configured limit (null = unlimited). */
export interface BudgetUse {
  used: number;
  limit: number | null;
}

export interface AgentBudgetJSON {
  agent: string;
  id: string;
  callsPerMinute: BudgetUse;
  callsPerHour: BudgetUse;
  callsPerDay: BudgetUse;
  /** cost charged via tollgate-cost over the last day */
  costPerDay: BudgetUse;
}

/**
 * Budget use per registered agent: calls per window and cost per day against `agents.<name>.limits`.
 * Agents with neither limits nor any use are left out (nothing to show). With graph.enforceCycles an agent on
 * a cycle is held to half its limits; the page marks agents on a cycle, the limits shown are the configured ones.
 */
export function agentBudgets(windows: AgentWindows, agents: Config['agents'], now: number): AgentBudgetJSON[] {
  const rows: AgentBudgetJSON[] = [];
  for (const [name, a] of Object.entries(agents)) {
    const use = windows.usage(name, now);
    if (!use && !a.limits) continue;
    const l = a.limits ?? {};
    const of = (used: number | undefined, limit: number | undefined): BudgetUse => ({ used: used ?? 0, limit: limit ?? null });
    rows.push({
      agent: name,
      id: a.id,
      callsPerMinute: of(use?.callsPerMinute, l.callsPerMinute),
      callsPerHour: of(use?.callsPerHour, l.callsPerHour),
      callsPerDay: of(use?.callsPerDay, l.callsPerDay),
      costPerDay: of(use?.costPerDay, l.costPerDay),
    });
  }
  return rows;
}
