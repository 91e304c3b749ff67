import { cycleThrough, cyclicComponents } from './scc.js';

/**
 * The aggregate call graph: caller -> callee edges (SPIFFE IDs) over a sliding window, bucketed
 * (default 10 buckets per window), with calls, errors, refusals and latency per edge.
 *
 * Cycles are found over the LIVE edges (at least one forwarded call in the window): edges whose calls were all
 * refused are already cut. Detection does not depend on the delegation header, so agents that drop it and
 * still call each other in a ring show up here. The strongly connected components are recomputed when an edge
 * becomes live or stops being live (both rare), never per call.
 */
export interface AggregateOptions {
  windowMs: number;
  buckets?: number;
  /** most edges tracked; beyond it new edges are counted in droppedEdges only (memory bound) */
  maxEdges?: number;
  /** a new cycle appeared (path of SPIFFE IDs, closed: [a, b, a]); for the warning log line */
  onCycle?: (path: string[]) => void;
  /** the number of cycles changed (for the tollgate_call_graph_cycles gauge) */
  onCyclesChanged?: (n: number) => void;
}

interface Edge {
  readonly from: string;
  readonly to: string;
  /** bucket number (floor(t / bucketMs)) each slot holds; a slot is stale when outside the window */
  readonly epoch: Float64Array;
  readonly calls: Float64Array;
  readonly errors: Float64Array;
  readonly refusals: Float64Array;
  readonly latSum: Float64Array;
  readonly latCount: Float64Array;
  readonly latMax: Float64Array;
  live: boolean;
}

export interface EdgeStats {
  from: string;
  to: string;
  calls: number;
  errors: number;
  refusals: number;
  latencyAvgMs: number | null;
  latencyMaxMs: number | null;
  onCycle: boolean;
}

export class AggregateGraph {
  private edges = new Map<string, Edge>();
  /** the same edges by from -> to: the per-call lookup needs no "from to" key string */
  private byFrom = new Map<string, Map<string, Edge>>();
  private readonly buckets: number;
  private bucketMs: number;
  private windowMs: number;
  private readonly maxEdges: number;
  private nextSweep = 0;
  private cyclePaths: string[][] = [];
  private cycleKeys = new Set<string>();
  /** node -> component number, for nodes on a cycle */
  private component = new Map<string, number>();
  private readonly onCycle?: (path: string[]) => void;
  private readonly onCyclesChanged?: (n: number) => void;
  droppedEdges = 0;

  constructor(opts: AggregateOptions) {
    this.buckets = opts.buckets ?? 10;
    this.windowMs = opts.windowMs;
    this.bucketMs = Math.max(1, Math.ceil(opts.windowMs / this.buckets));
    this.maxEdges = opts.maxEdges ?? 10_000;
    this.onCycle = opts.onCycle;
    this.onCyclesChanged = opts.onCyclesChanged;
  }

  /** Config reload: a new window (stats restart, cycles are recomputed). */
  setWindow(windowMs: number): void {
    if (windowMs === this.windowMs) return;
    this.windowMs = windowMs;
    this.bucketMs = Math.max(1, Math.ceil(windowMs / this.buckets));
    this.edges.clear();
    this.byFrom.clear();
    this.recompute();
  }

  private edge(from: string, to: string, now: number): Edge | undefined {
    if (now >= this.nextSweep) this.sweep(now);
    let tos = this.byFrom.get(from);
    let e = tos?.get(to);
    if (!e) {
      if (this.edges.size >= this.maxEdges) {
        this.droppedEdges++;
        return undefined;
      }
      const B = this.buckets;
      e = {
        from,
        to,
        epoch: new Float64Array(B).fill(-1),
        calls: new Float64Array(B),
        errors: new Float64Array(B),
        refusals: new Float64Array(B),
        latSum: new Float64Array(B),
        latCount: new Float64Array(B),
        latMax: new Float64Array(B),
        live: false,
      };
      this.edges.set(`${from} ${to}`, e);
      if (tos === undefined) this.byFrom.set(from, (tos = new Map<string, Edge>()));
      tos.set(to, e);
    }
    return e;
  }

  /** The slot for `now`, cleared if it held an older bucket. */
  private slot(e: Edge, now: number): number {
    const b = Math.floor(now / this.bucketMs);
    const i = b % this.buckets;
    if (e.epoch[i] !== b) {
      e.epoch[i] = b;
      e.calls[i] = 0;
      e.errors[i] = 0;
      e.refusals[i] = 0;
      e.latSum[i] = 0;
      e.latCount[i] = 0;
      e.latMax[i] = 0;
    }
    return i;
  }

  /** A call was forwarded from -> to. */
  recordCall(from: string, to: string, now: number): void {
    const e = this.edge(from, to, now);
    if (!e) return;
    e.calls[this.slot(e, now)]++;
    if (!e.live) {
      e.live = true;
      this.recompute();
    }
  }

  /** A forwarded call ended: latency, and whether it failed (5xx, upstream error, abort). */
  recordResult(from: string, to: string, now: number, latencyMs: number, error: boolean): void {
    const e = this.edge(from, to, now);
    if (!e) return;
    const i = this.slot(e, now);
    if (error) e.errors[i]++;
    e.latSum[i] += latencyMs;
    e.latCount[i]++;
    if (latencyMs > e.latMax[i]) e.latMax[i] = latencyMs;
  }

  /** A call from -> to was refused (by any stage). */
  recordRefusal(from: string, to: string, now: number): void {
    const e = this.edge(from, to, now);
    if (!e) return;
    e.refusals[this.slot(e, now)]++;
  }

  /** Forget buckets older than the window; drop empty edges; recompute cycles if liveness changed. */
  sweep(now: number): void {
    this.nextSweep = now + this.bucketMs;
    const oldest = Math.floor(now / this.bucketMs) - this.buckets + 1;
    let changed = false;
    for (const [key, e] of this.edges) {
      let calls = 0;
      let any = 0;
      for (let i = 0; i < this.buckets; i++) {
        if (e.epoch[i] < oldest) continue;
        calls += e.calls[i];
        any += e.calls[i] + e.refusals[i] + e.errors[i] + e.latCount[i];
      }
      if (e.live && calls === 0) {
        e.live = false;
        changed = true;
      }
      if (any === 0) {
        this.edges.delete(key);
        const tos = this.byFrom.get(e.from);
        tos?.delete(e.to);
        if (tos?.size === 0) this.byFrom.delete(e.from);
      }
    }
    if (changed) this.recompute();
  }

  private recompute(): void {
    const adj = new Map<string, string[]>();
    for (const e of this.edges.values()) {
      if (!e.live) continue;
      const list = adj.get(e.from);
      if (list) list.push(e.to);
      else adj.set(e.from, [e.to]);
    }
    const comps = cyclicComponents(adj);
    this.component.clear();
    const paths: string[][] = [];
    const keys = new Set<string>();
    comps.forEach((c, n) => {
      for (const id of c) this.component.set(id, n);
      paths.push(cycleThrough(c, adj));
      keys.add([...c].sort().join('\n'));
    });
    const before = this.cycleKeys;
    this.cyclePaths = paths;
    this.cycleKeys = keys;
    paths.forEach((p, n) => {
      if (!before.has([...comps[n]].sort().join('\n'))) this.onCycle?.(p);
    });
    if (before.size !== keys.size || [...keys].some((k) => !before.has(k))) this.onCyclesChanged?.(paths.length);
  }

  /** Current cycles among live edges, each a closed path of SPIFFE IDs ([a, b, c, a]). */
  cycles(): string[][] {
    return this.cyclePaths.map((p) => p.slice());
  }

  /** Is this agent (SPIFFE ID) on a cycle right now? O(1). */
  isOnCycle(id: string): boolean {
    return this.component.has(id);
  }

  /** Is the edge inside a cycle (both ends in the same cyclic component, and live)? */
  edgeOnCycle(from: string, to: string): boolean {
    const a = this.component.get(from);
    return a !== undefined && a === this.component.get(to) && this.edges.get(`${from} ${to}`)?.live === true;
  }

  /** Per-edge totals over the window ending at `now`. */
  edgeStats(now: number): EdgeStats[] {
    this.sweep(now);
    const oldest = Math.floor(now / this.bucketMs) - this.buckets + 1;
    const out: EdgeStats[] = [];
    for (const e of this.edges.values()) {
      let calls = 0;
      let errors = 0;
      let refusals = 0;
      let latSum = 0;
      let latCount = 0;
      let latMax = 0;
      for (let i = 0; i < this.buckets; i++) {
        if (e.epoch[i] < oldest) continue;
        calls += e.calls[i];
        errors += e.errors[i];
        refusals += e.refusals[i];
        latSum += e.latSum[i];
        latCount += e.latCount[i];
        if (e.latMax[i] > latMax) latMax = e.latMax[i];
      }
      out.push({
        from: e.from,
        to: e.to,
        calls,
        errors,
        refusals,
        latencyAvgMs: latCount ? latSum / latCount : null,
        latencyMaxMs: latCount ? latMax : null,
        onCycle: this.edgeOnCycle(e.from, e.to),
      });
    }
    return out;
  }

  get windowSizeMs(): number {
    return this.windowMs;
  }

  size(): number {
    return this.edges.size;
  }
}
