/**
 * OpenTelemetry traces of governed calls (config `tracing:`): one span per call that reached governance or
 * was refused on the way (spans built by trace-span.ts), exported over OTLP/HTTP protobuf by the official
 * SDK: a BatchSpanProcessor with a bounded queue (full: the span is dropped, a call never waits) and the OTLP
 * proto exporter. The packages are imported here, lazily, only when tracing is configured: the default gateway
 * neither loads nor pays for them.
 *
 * It wraps the governance slot: the delegation stage decides first, then the span is handed to the SDK.
 */
import { performance } from 'node:perf_hooks';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config/schema.js';
import type { Exchange, Governance } from '../proxy/index.js';
import { COST_HEADER, parseCost, type DelegationCallHandle } from '../governance/delegation/index.js';
import type { GatewayLog } from '../control/gateway.js';
import { spanIdOf, spanOf, type CallFacts, type SpanSpec } from './trace-span.js';

export interface Tracing {
  /** the delegation stage's span ids (so the outbound traceparent names the call's span) */
  spanIdOf(callId: string): string;
  /** the governance slot with a span per finished call */
  wrap(inner: Governance): Governance;
  /** export what is queued, then stop */
  close(): Promise<void>;
}

/** how often a failing export is logged at most */
const WARN_EVERY_MS = 60_000;

export async function startTracing(cfg: NonNullable<Config['tracing']>, log: GatewayLog): Promise<Tracing> {
  const [base, { OTLPTraceExporter }, { resourceFromAttributes }, { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION }, api] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/api'),
  ]);
  const random = new base.RandomIdGenerator();
  // The SDK mints ids through its IdGenerator: the span being started takes the ids trace-span.ts derived
  let next: SpanSpec | undefined;
  const idGenerator = {
    generateTraceId: () => next?.traceId ?? random.generateTraceId(),
    generateSpanId: () => next?.spanId ?? random.generateSpanId(),
  };
  const otlp = new OTLPTraceExporter({ url: cfg.endpoint, headers: cfg.headers, timeoutMillis: cfg.exportTimeout });
  let lastWarn = 0;
  // the exporter's failures would go to OpenTelemetry's diag logger (silent by default): say so, now and then
  const exporter: SpanExporter = {
    export(spans, done) {
      otlp.export(spans, (r) => {
        if ((r.code as number) !== 0 /* ExportResultCode.SUCCESS */ && Date.now() - lastWarn > WARN_EVERY_MS) {
          lastWarn = Date.now();
          log.warn({ err: r.error, endpoint: cfg.endpoint, spans: spans.length }, 'tracing: exporting spans failed; they are dropped');
        }
        done(r);
      });
    },
    shutdown: () => otlp.shutdown(),
    forceFlush: () => otlp.forceFlush(),
  };
  const processor = new base.BatchSpanProcessor(exporter, {
    maxQueueSize: cfg.maxQueueSize,
    maxExportBatchSize: cfg.maxBatchSize,
    scheduledDelayMillis: cfg.batchDelay,
    exportTimeoutMillis: cfg.exportTimeout,
  });
  const provider = new base.BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: cfg.serviceName, [ATTR_SERVICE_VERSION]: '0.1.0' }),
    idGenerator,
    sampler: new base.AlwaysOnSampler(),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('tollgate');
  const randomIds = () => ({ traceId: random.generateTraceId(), spanId: random.generateSpanId() });

  const emit = (s: SpanSpec) => {
    next = s;
    try {
      const parent =
        s.parentSpanId === undefined
          ? api.ROOT_CONTEXT
          : api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: api.TraceFlags.SAMPLED, isRemote: true });
      const span = tracer.startSpan(s.name, { kind: api.SpanKind.SERVER, startTime: s.startMs, attributes: s.attributes }, parent);
      if (s.error)
        span.setStatus({
          code: api.SpanStatusCode.ERROR,
          message: String(s.attributes['tollgate.refusal.reason'] ?? s.attributes['tollgate.error'] ?? s.attributes['http.response.status_code']),
        });
      span.end(s.endMs);
    } finally {
      next = undefined;
    }
  };
  const record = (ex: Exchange) => {
    try {
      emit(spanOf(factsOf(ex), randomIds));
    } catch (err) {
      if (Date.now() - lastWarn > WARN_EVERY_MS) {
        lastWarn = Date.now();
        log.warn({ err }, 'tracing: a span could not be built');
      }
    }
  };

  return {
    spanIdOf,
    wrap(inner) {
      return {
        beforeForward: (ex) => inner.beforeForward(ex),
        onResponse: (ex) => inner.onResponse(ex),
        onRefused(ex, r) {
          try {
            inner.onRefused(ex, r);
          } finally {
            record(ex);
          }
        },
        onComplete(ex) {
          try {
            inner.onComplete(ex);
          } finally {
            record(ex);
          }
        },
      };
    },
    close: () => provider.shutdown().catch(() => undefined),
  };
}

function factsOf(ex: Exchange): CallFacts {
  const h = ex.governance as DelegationCallHandle | undefined;
  return {
    callerId: ex.callerId,
    callerName: ex.callerName,
    callee: ex.callee,
    calleeId: ex.calleeId,
    method: ex.method,
    decision: ex.decision,
    reason: ex.reason,
    status: ex.status,
    startMs: performance.timeOrigin + ex.t0,
    durationUs: ex.durationUs,
    traceparent: ex.header('traceparent'),
    cost: parseCost(ex.responseHeader(COST_HEADER)),
    call: h === undefined ? undefined : { callId: h.callId, parentCallId: h.parentCallId, rootTaskId: h.rootTaskId, traceId: h.traceId },
  };
}
