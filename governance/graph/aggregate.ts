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

/**
 * Latency histogram bins: bin i holds latencies up to LAT_MIN_MS * 2^((i+1)/3) (about 26% wide), from 0.125 ms
 * to ~131 s (the last bin also takes anything longer). p50/p99 are read from it, so they are within a bin's width.
 */
const LAT_BINS = 60;
const LAT_MIN_MS = 0.125;
function latBin(ms: number): number {
  if (!(ms > LAT_MIN_MS)) return 0;
  const i = Math.floor(3 * Math.log2(ms / LAT_MIN_MS));
  return i < LAT_BINS ? i : LAT_BINS - 1;
}
/** a bin's representative latency: its geometric middle */
function binMs(i: number): number {
  return LAT_MIN_MS * 2 ** ((i + 0.5) / 3);
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
  /** LAT_BINS counts per bucket slot (slot i at i * LAT_BINS), made at the edge's first result */
  hist: Uint32Array | undefined;
  /** refusals per reason, per bucket slot; made at the edge's first refusal (off the allowed path) */
  reasons: Map<string, Float64Array> | undefined;
  /** failed calls per kind (upstream error kind, or http_<status> for a 5xx answer), per bucket slot */
  errorKinds: Map<string, Float64Array> | undefined;
  live: boolean;
}

/** Totals of several edges (an agent's inbound or outbound calls): the same figures, histograms merged. */
export interface EdgeTotals {
  calls: number;
  errors: number;
  refusals: number;
  latencyAvgMs: number | null;
  latencyMaxMs: number | null;
  /** latency percentiles over the range (from a histogram: within ~13% of the true value); null without results */
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  /** refusals by reason code (loop, no_rule, rate_limited, ...) */
  refusalsByReason: Record<string, number>;
  /** failed calls by kind: refused, reset, timeout, identity, other, client_abort, or http_<status> */
  errorsByKind: Record<string, number>;
}

/** One caller -> callee edge over the range. */
export interface EdgeStats extends EdgeTotals {
  from: string;
  to: string;
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
        hist: undefined,
        reasons: undefined,
        errorKinds: undefined,
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
      if (e.hist !== undefined) e.hist.fill(0, i * LAT_BINS, (i + 1) * LAT_BINS);
      if (e.reasons !== undefined) for (const a of e.reasons.values()) a[i] = 0;
      if (e.errorKinds !== undefined) for (const a of e.errorKinds.values()) a[i] = 0;
    }
    return i;
  }

  private static bump(map: Map<string, Float64Array>, key: string, i: number, buckets: number): void {
    let a = map.get(key);
    if (a === undefined) map.set(key, (a = new Float64Array(buckets)));
    a[i]++;
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

  /**
   * A forwarded call ended: latency, and whether it failed (5xx, upstream error, abort). `errorKind` names the
   * failure (see EdgeStats.errorsByKind); without it a failure counts as "other".
   */
  recordResult(from: string, to: string, now: number, latencyMs: number, error: boolean, errorKind?: string): void {
    const e = this.edge(from, to, now);
    if (!e) return;
    const i = this.slot(e, now);
    if (error) {
      e.errors[i]++;
      AggregateGraph.bump((e.errorKinds ??= new Map<string, Float64Array>()), errorKind ?? 'other', i, this.buckets);
    }
    e.latSum[i] += latencyMs;
    e.latCount[i]++;
    if (latencyMs > e.latMax[i]) e.latMax[i] = latencyMs;
    (e.hist ??= new Uint32Array(this.buckets * LAT_BINS))[i * LAT_BINS + latBin(latencyMs)]++;
  }

  /** A call from -> to was refused (by any stage), for `reason` (the refusal's reason code). */
  recordRefusal(from: string, to: string, now: number, reason = 'unknown'): void {
    const e = this.edge(from, to, now);
    if (!e) return;
    const i = this.slot(e, now);
    e.refusals[i]++;
    AggregateGraph.bump((e.reasons ??= new Map<string, Float64Array>()), reason, i, this.buckets);
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

  /** The bucket slots a range covers: `rangeMs` (default the window) rounded up to whole buckets. */
  rangeBuckets(rangeMs?: number): number {
    if (rangeMs === undefined || !(rangeMs > 0)) return this.buckets;
    return Math.min(this.buckets, Math.max(1, Math.ceil(rangeMs / this.bucketMs)));
  }

  /** The time the last `rangeBuckets(rangeMs)` buckets span (what per-second rates divide by). */
  rangeSpanMs(rangeMs?: number): number {
    return this.rangeBuckets(rangeMs) * this.bucketMs;
  }

  /** Per-edge totals over the window (or the last `rangeMs` of it) ending at `now`. */
  edgeStats(now: number, rangeMs?: number): EdgeStats[] {
    this.sweep(now);
    const oldest = Math.floor(now / this.bucketMs) - this.rangeBuckets(rangeMs) + 1;
    const out: EdgeStats[] = [];
    for (const e of this.edges.values()) {
      const t = this.totals([e], oldest);
      if (t.calls + t.errors + t.refusals === 0 && t.latencyAvgMs === null && rangeMs !== undefined) continue;
      out.push({ from: e.from, to: e.to, ...t, onCycle: this.edgeOnCycle(e.from, e.to) });
    }
    return out;
  }

  /** Totals over the edges `match` selects (e.g. every call into one agent), over the window or its last `rangeMs`. */
  totalsOf(now: number, match: (from: string, to: string) => boolean, rangeMs?: number): EdgeTotals {
    this.sweep(now);
    const oldest = Math.floor(now / this.bucketMs) - this.rangeBuckets(rangeMs) + 1;
    const picked: Edge[] = [];
    for (const e of this.edges.values()) if (match(e.from, e.to)) picked.push(e);
    return this.totals(picked, oldest);
  }

  private totals(edges: readonly Edge[], oldest: number): EdgeTotals {
    let calls = 0;
    let errors = 0;
    let refusals = 0;
    let latSum = 0;
    let latCount = 0;
    let latMax = 0;
    const refusalsByReason: Record<string, number> = {};
    const errorsByKind: Record<string, number> = {};
    let hist: Float64Array | undefined;
    for (const e of edges) {
      for (let i = 0; i < this.buckets; i++) {
        if (e.epoch[i] < oldest) continue;
        calls += e.calls[i];
        errors += e.errors[i];
        refusals += e.refusals[i];
        latSum += e.latSum[i];
        latCount += e.latCount[i];
        if (e.latMax[i] > latMax) latMax = e.latMax[i];
        if (e.hist !== undefined && e.latCount[i] > 0) {
          hist ??= new Float64Array(LAT_BINS);
          for (let b = 0; b < LAT_BINS; b++) hist[b] += e.hist[i * LAT_BINS + b];
        }
        if (e.reasons !== undefined) for (const [k, a] of e.reasons) if (a[i]) refusalsByReason[k] = (refusalsByReason[k] ?? 0) + a[i];
        if (e.errorKinds !== undefined) for (const [k, a] of e.errorKinds) if (a[i]) errorsByKind[k] = (errorsByKind[k] ?? 0) + a[i];
      }
    }
    const pct = (q: number): number | null => {
      if (hist === undefined || latCount === 0) return null;
      const rank = Math.max(1, Math.ceil(q * latCount));
      let seen = 0;
      for (let b = 0; b < LAT_BINS; b++) {
        seen += hist[b];
        if (seen >= rank) return Math.min(binMs(b), latMax);
      }
      return latMax;
    };
    return {
      calls,
      errors,
      refusals,
      latencyAvgMs: latCount ? latSum / latCount : null,
      latencyMaxMs: latCount ? latMax : null,
      latencyP50Ms: pct(0.5),
      latencyP99Ms: pct(0.99),
      refusalsByReason,
      errorsByKind,
    };
  }

  get windowSizeMs(): number {
    return this.windowMs;
  }

  size(): number {
    return this.edges.size;
  }
}
