import { ChildCache, counterCell, histogramCell, type CounterCell, type GatewayMetrics, type HistogramCell } from '../metrics.js';
import type { AuditLog } from '../audit.js';
import type { Exchange } from '../exchange.js';
import type { Refusal } from '../errors.js';
import type { AuditDecision } from '../audit.js';

/**
 * Stage "record": metrics and the audit line, exactly once per request, whatever the outcome. Label
 * children are cached (one Map lookup per increment), the audit write is one async pino line.
 */
export class Recorder {
  private readonly requests: ChildCache<CounterCell>;
  private readonly duration: ChildCache<HistogramCell>;
  private readonly denials: ChildCache<CounterCell>;
  private readonly limited: ChildCache<CounterCell>;
  private readonly upstreamErrors: ChildCache<CounterCell>;

  constructor(
    readonly metrics: GatewayMetrics,
    private readonly audit: AuditLog | undefined,
  ) {
    this.requests = new ChildCache(([caller, callee, method, status]) => counterCell(metrics.requests, { caller, callee, method, status }));
    this.duration = new ChildCache(([callee, method]) => histogramCell(metrics.requestDuration, { callee, method }));
    this.denials = new ChildCache(([caller, callee, reason]) => counterCell(metrics.denials, { caller, callee, reason }));
    this.limited = new ChildCache(([caller, callee, limit]) => counterCell(metrics.rateLimited, { caller, callee, limit }));
    this.upstreamErrors = new ChildCache(([callee, kind]) => counterCell(metrics.upstreamErrors, { callee, kind }));
  }

  /** a refusal's counter, and its outcome on the exchange (the binding writes the answer) */
  refused(ex: Exchange, r: Refusal, decision: AuditDecision): void {
    if (decision === 'limit') this.rateLimited(ex.callerName, ex.callee, r.reason);
    else this.denial(ex.callerName, ex.calleeLabel, decision === 'refuse' ? 'delegation' : r.reason);
    ex.decision = decision;
    ex.reason = r.reason;
    ex.status = r.status;
  }

  denial(caller: string, callee: string, reason: string): void {
    this.denials.get3(caller, callee, reason).inc();
  }

  rateLimited(caller: string, callee: string, limit: string): void {
    this.limited.get3(caller, callee, limit).inc();
  }

  upstreamError(callee: string, kind: string): void {
    this.upstreamErrors.get2(callee, kind).inc();
  }

  /** seconds from arrival to response headers */
  latency(callee: string, method: string, seconds: number): void {
    this.duration.get2(callee, method).observe(seconds);
  }

  /** The one record of an exchange, whatever happened: the request counter and the audit line. */
  record(ex: Exchange): void {
    this.requests.get4(ex.callerName, ex.calleeLabel, ex.method, statusLabel(ex.status)).inc();
    if (this.audit !== undefined) {
      this.audit.write({
        caller: ex.callerId,
        callee: ex.callee,
        method: ex.method,
        decision: ex.decision,
        reason: ex.reason,
        status: ex.status,
        bytesIn: ex.bytesIn,
        bytesOut: ex.bytesOut,
        durationUs: ex.durationUs,
        traceId: ex.traceId,
        taskId: ex.taskId,
        contextId: ex.contextId,
        rootTaskId: ex.rootTaskId,
        callId: ex.callId,
        shadow: ex.shadow,
      });
    }
  }
}

const STATUS: string[] = [];
for (let s = 0; s < 600; s++) STATUS.push(String(s));
function statusLabel(s: number): string {
  return s >= 0 && s < 600 ? STATUS[s] : 'unknown';
}
