import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CaEvents } from '../ca/api.js';

/**
 * The gateway's Prometheus metrics (prom-client, prefix tollgate_). One registry per gateway.
 *
 * Label values come only from bounded sets: agent names from the registry, 'external'/'unknown' callers,
 * canonical A2A method names, HTTP status codes, fixed reason/kind/limit sets. Hot-path code must not
 * call `.labels()` per request: it uses `child()` caches (one Map lookup per increment).
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'caller' | 'callee' | 'method' | 'status'>;
  readonly requestDuration: Histogram<'callee' | 'method'>;
  readonly denials: Counter<'caller' | 'callee' | 'reason'>;
  readonly rateLimited: Counter<'caller' | 'callee' | 'limit'>;
  readonly upstreamErrors: Counter<'callee' | 'kind'>;
  readonly openConnections: Gauge;
  readonly tlsHandshakeFailures: Counter<'reason'>;
  readonly gatewayCertExpiry: Gauge;
  readonly intermediateCertExpiry: Gauge;
  readonly certificatesIssued: Counter<'kind'>;
  readonly caSigningFailures: Counter;
  /** 1 while the CA's database file is deleted or replaced under the running gateway (it issues nothing) */
  readonly caStoreLost: Gauge;
  /** 1 while the last sync with the durable store (revocations, settings) succeeded; 0 while it fails */
  readonly storeUp: Gauge;
  /** seconds since the last successful sync, at scrape time */
  readonly storeSyncAge: Gauge;
  /** 1 while the shared governance backend (Redis) answers; 0 while governed calls fail closed; absent without one */
  readonly governanceBackendUp: Gauge;
  // Reserved for the delegation / call-graph code (governance/delegation, governance/graph), which increments them.
  readonly delegationRefusals: Counter<'caller' | 'callee' | 'reason'>;
  readonly loopsCut: Counter<'caller' | 'callee'>;
  readonly callGraphCycles: Gauge;
  readonly budgetExhausted: Counter<'scope' | 'budget'>;
  readonly costTotal: Counter<'agent'>;
  /** calls the shadow policy would decide differently (proxy/shadow.ts): verdict would_deny | would_allow */
  readonly policyShadowDiff: Counter<'caller' | 'callee' | 'verdict'>;
  /** calls the shadow rate limits would decide differently (proxy/ratelimit/shadow.ts): verdict would_limit | would_allow */
  readonly limitsShadowDiff: Counter<'caller' | 'callee' | 'verdict'>;
  /** where tollgate_gateway_cert_expiry_seconds reads the gateway certificate's notAfter (ms), at scrape time */
  setGatewayCertNotAfter(source: () => number | undefined): void;
  /** notAfter (ms) of the CA intermediate currently signing; the gauge reports seconds left at scrape time */
  setIntermediateCertNotAfter(notAfterMs: number): void;
  /** a sync with the store (revocations, settings) at `at` (ms) succeeded or failed */
  storeSync(ok: boolean, at: number): void;
  /** CA event hooks feeding tollgate_certificates_issued_total / tollgate_ca_signing_failures_total */
  caEvents(): CaEvents;
  /** Prometheus text exposition */
  text(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsOptions {
  /** include Node process metrics (tollgate_process_*, tollgate_nodejs_*); default true */
  processMetrics?: boolean;
  /** clock for the expiry gauges (ms); default Date.now */
  now?: () => number;
}

export function createMetrics(opts: MetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  const now = opts.now ?? Date.now;
  const registers = [registry];
  let gatewayNotAfter: () => number | undefined = () => undefined;
  let intermediateNotAfter: number | undefined;
  let lastStoreSync: number | undefined;

  const m: GatewayMetrics = {
    registry,
    requests: new Counter({
      name: 'tollgate_requests_total',
      help: 'Calls through the gateway, by caller, callee, canonical A2A method and HTTP status',
      labelNames: ['caller', 'callee', 'method', 'status'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'tollgate_request_duration_seconds',
      help: 'Time from request received to response headers sent (streams: to the first byte), by callee and method',
      labelNames: ['callee', 'method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    denials: new Counter({
      name: 'tollgate_denials_total',
      help: 'Calls the gateway refused (authentication, authorization, bad request), by reason',
      labelNames: ['caller', 'callee', 'reason'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'tollgate_rate_limited_total',
      help: 'Calls refused with 429, by the limit that tripped',
      labelNames: ['caller', 'callee', 'limit'],
      registers,
    }),
    upstreamErrors: new Counter({
      name: 'tollgate_upstream_errors_total',
      help: 'Failures talking to an upstream agent, by kind',
      labelNames: ['callee', 'kind'],
      registers,
    }),
    openConnections: new Gauge({ name: 'tollgate_open_connections', help: 'Open client TLS connections to the gateway', registers }),
    tlsHandshakeFailures: new Counter({
      name: 'tollgate_tls_handshake_failures_total',
      help: 'Client TLS handshakes that failed, and connections whose certificate is not a valid SVID, by reason',
      labelNames: ['reason'],
      registers,
    }),
    gatewayCertExpiry: new Gauge({
      name: 'tollgate_gateway_cert_expiry_seconds',
      // one value for the whole process group (--workers): prom-client aggregates per metric
      aggregator: 'min',
      help: "Seconds until the gateway's own certificate expires",
      registers,
      collect() {
        const na = gatewayNotAfter();
        if (na !== undefined) this.set((na - now()) / 1000);
      },
    }),
    intermediateCertExpiry: new Gauge({
      name: 'tollgate_intermediate_cert_expiry_seconds',
      // one value for the whole process group (--workers): prom-client aggregates per metric
      aggregator: 'min',
      help: 'Seconds until the signing intermediate CA certificate expires',
      registers,
      collect() {
        if (intermediateNotAfter !== undefined) this.set((intermediateNotAfter - now()) / 1000);
      },
    }),
    certificatesIssued: new Counter({
      name: 'tollgate_certificates_issued_total',
      help: 'Certificates the CA signed, by kind',
      labelNames: ['kind'],
      registers,
    }),
    caSigningFailures: new Counter({ name: 'tollgate_ca_signing_failures_total', help: 'CA signing operations that failed', registers }),
    caStoreLost: new Gauge({
      name: 'tollgate_ca_store_lost',
      // one value for the whole process group (--workers): prom-client aggregates per metric
      aggregator: 'max',
      help: '1 while the CA database file is deleted or replaced under the running gateway (issuing stopped)',
      registers,
    }),
    storeUp: new Gauge({
      name: 'tollgate_store_up',
      // one value for the whole process group (--workers): prom-client aggregates per metric
      aggregator: 'min',
      help: '1 while the durable store (SQLite file or PostgreSQL) answers the background syncs; 0 while they fail (traffic flows on what the replica holds)',
      registers,
    }),
    storeSyncAge: new Gauge({
      name: 'tollgate_store_sync_age_seconds',
      // one value for the whole process group (--workers): prom-client aggregates per metric
      aggregator: 'max',
      help: 'Seconds since the last successful sync with the durable store (revocations, settings)',
      registers,
      collect() {
        if (lastStoreSync !== undefined) this.set(Math.max(0, (now() - lastStoreSync) / 1000));
      },
    }),
    governanceBackendUp: new Gauge({
      name: 'tollgate_governance_backend_up',
      // one value for the whole process group (--workers): prom-client aggregates per metric
      aggregator: 'min',
      help: '1 while the shared governance backend (Redis) answers; 0 while calls that need it are refused (fail closed)',
      registers,
    }),
    delegationRefusals: new Counter({
      name: 'tollgate_delegation_refusals_total',
      help: 'Calls refused by the delegation stage, by reason',
      labelNames: ['caller', 'callee', 'reason'],
      registers,
    }),
    loopsCut: new Counter({ name: 'tollgate_loops_cut_total', help: 'Delegation loops the gateway cut', labelNames: ['caller', 'callee'], registers }),
    callGraphCycles: new Gauge({ name: 'tollgate_call_graph_cycles', help: 'Cycles in the aggregate caller -> callee graph', registers, aggregator: 'max' }),
    budgetExhausted: new Counter({
      name: 'tollgate_budget_exhausted_total',
      help: 'Calls refused because a budget ran out',
      labelNames: ['scope', 'budget'],
      registers,
    }),
    costTotal: new Counter({ name: 'tollgate_cost_total', help: 'Cost reported by agents (tollgate-cost), by agent', labelNames: ['agent'], registers }),
    policyShadowDiff: new Counter({
      name: 'tollgate_policy_shadow_diff_total',
      help: 'Calls the shadow policy would decide differently from the enforced one: would_deny (allowed now) or would_allow (refused now), by caller and callee',
      labelNames: ['caller', 'callee', 'verdict'],
      registers,
    }),
    limitsShadowDiff: new Counter({
      name: 'tollgate_limits_shadow_diff_total',
      help: 'Calls the shadow rate limits would decide differently from the enforced ones: would_limit (allowed now) or would_allow (rate limited now), by caller and callee',
      labelNames: ['caller', 'callee', 'verdict'],
      registers,
    }),
    setGatewayCertNotAfter(source) {
      gatewayNotAfter = source;
    },
    setIntermediateCertNotAfter(ms) {
      intermediateNotAfter = ms;
    },
    storeSync(ok, at) {
      m.storeUp.set(ok ? 1 : 0);
      if (ok) lastStoreSync = at;
    },
    caEvents() {
      return {
        onIssued: (kind) => m.certificatesIssued.labels(kind).inc(),
        onSigningFailure: () => m.caSigningFailures.inc(),
        onStoreLost: () => m.caStoreLost.set(1),
        onStoreRestored: () => m.caStoreLost.set(0),
      };
    },
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
  // The event-loop lag histogram samples on a timer of this period. prom-client's default, 10 ms, woke an idle
  // gateway 100 times a second (half of its wake-ups, ~1% of a core on the 2026-11-30 VM, and as much again
  // per worker); a lag worth alerting on lasts far longer than 100 ms, and a busy loop is sampled as well.
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'tollgate_', eventLoopMonitoringPrecision: 100 });
  return m;
}

/**
 * A cache of metric children by label values, so the hot path pays a few Map lookups (no allocation)
 * instead of prom-client's label hashing. Nested maps: one level per label.
 */
export class ChildCache<C> {
  private readonly root = new Map<string, unknown>();
  constructor(private readonly make: (values: string[]) => C) {}
  private level(m: Map<string, unknown>, k: string): Map<string, unknown> {
    let n = m.get(k) as Map<string, unknown> | undefined;
    if (n === undefined) m.set(k, (n = new Map()));
    return n;
  }
  get2(a: string, b: string): C {
    const m = this.level(this.root, a);
    let c = m.get(b) as C | undefined;
    if (c === undefined) m.set(b, (c = this.make([a, b])));
    return c;
  }
  get3(a: string, b: string, c3: string): C {
    const m = this.level(this.level(this.root, a), b);
    let c = m.get(c3) as C | undefined;
    if (c === undefined) m.set(c3, (c = this.make([a, b, c3])));
    return c;
  }
  get4(a: string, b: string, c3: string, d: string): C {
    const m = this.level(this.level(this.level(this.root, a), b), c3);
    let c = m.get(d) as C | undefined;
    if (c === undefined) m.set(d, (c = this.make([a, b, c3, d])));
    return c;
  }
}

/**
 * Hot-path metric cells. prom-client hashes the label set on every inc()/observe() (a child from
 * labels() does too); on the request path that is a few microseconds per call. A cell finds prom-client's
 * own entry for one label set once, then updates it in place, so scrapes read exactly what prom-client
 * would have recorded. If the internals ever differ from what we expect, the cell falls back to the
 * public API. (Do not call registry.resetMetrics() on a gateway registry: cells would keep stale entries.)
 */
export interface CounterCell {
  inc(): void;
}
export interface HistogramCell {
  observe(v: number): void;
}

type Entries = Record<string, { labels: Record<string, string | number>; value?: number; sum?: number; count?: number; bucketValues?: Record<string, number> }>;

function findEntry(metric: object, labels: Record<string, string>): Entries[string] | undefined {
  const map = (metric as { hashMap?: Entries }).hashMap;
  if (!map || typeof map !== 'object') return undefined;
  const names = Object.keys(labels);
  for (const e of Object.values(map)) {
    if (e && e.labels && names.every((n) => String(e.labels[n]) === labels[n]) && Object.keys(e.labels).length === names.length) return e;
  }
  return undefined;
}

export function counterCell(counter: Counter, labels: Record<string, string>): CounterCell {
  counter.inc(labels, 0);
  const e = findEntry(counter, labels);
  if (e && typeof e.value === 'number') {
    return {
      inc() {
        (e.value as number) += 1;
      },
    };
  }
  const child = counter.labels(labels);
  return { inc: () => child.inc() };
}

export function histogramCell(h: Histogram, labels: Record<string, string>): HistogramCell {
  h.zero(labels);
  const e = findEntry(h, labels);
  const bounds = (h as unknown as { upperBounds?: number[] }).upperBounds;
  if (e && e.bucketValues && typeof e.sum === 'number' && typeof e.count === 'number' && Array.isArray(bounds)) {
    const buckets = e.bucketValues;
    // The bucket counts are keyed by the bounds' text. Indexing them with the number (buckets[0.005]) makes V8
    // turn it into a string on every call: ~4x dearer (~0.5 vs ~0.1 us a call in a loop, ~3 us a request in the
    // loaded gateway's profile). The key strings are taken from Object.keys, which gives them as V8 stores
    // them, so the store below needs no conversion.
    const keyOf = new Map(Object.keys(buckets).map((k) => [Number(k), k]));
    const keys = bounds.map((b) => keyOf.get(b));
    if (keys.every((k) => k !== undefined)) {
      return {
        observe(v: number) {
          if (!Number.isFinite(v)) return;
          (e.sum as number) += v;
          (e.count as number) += 1;
          for (let i = 0; i < bounds.length; i++) {
            if (v <= bounds[i]) {
              buckets[keys[i]] += 1;
              return;
            }
          }
        },
      };
    }
  }
  const child = h.labels(labels);
  return { observe: (v) => child.observe(v) };
}
