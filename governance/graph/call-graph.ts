import { shortName } from '../../certs/spiffe-id.js';
import { AggregateGraph } from './aggregate.js';
import { aggregateToDot, taskToDot } from './dot.js';
import { taskSummary, taskToJSON, type AggregateJSON, type TaskSummaryJSON, type TaskTreeJSON } from './json.js';
import { TaskTrees } from './tree.js';

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

  aggregateJSON(now: number): AggregateJSON {
    const edges = this.aggregate.edgeStats(now);
    const nodeIds = new Set<string>();
    for (const e of edges) {
      nodeIds.add(e.from);
      nodeIds.add(e.to);
    }
    return {
      at: now,
      windowMs: this.aggregate.windowSizeMs,
      costUnit: this.costUnit,
      nodes: [...nodeIds].map((id) => ({ id, name: this.nameOf(id), onCycle: this.aggregate.isOnCycle(id) })),
      edges: edges.map((e) => ({ ...e, fromName: this.nameOf(e.from), toName: this.nameOf(e.to) })),
      cycles: this.aggregate.cycles().map((ids) => ({ ids, names: ids.map((id) => this.nameOf(id)) })),
      recentTasks: this.tasksJSON(20),
    };
  }

  taskDot(rootTaskId: string): string | undefined {
    const t = this.taskJSON(rootTaskId);
    return t && taskToDot(t);
  }

  aggregateDot(now: number): string {
    return aggregateToDot(this.aggregateJSON(now));
  }
}
