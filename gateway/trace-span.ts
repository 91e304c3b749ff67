/**
 * What one governed call looks like as a span: pure, over plain data (the exchange and the delegation
 * handle the governance slot sees). gateway/tracing.ts hands the result to the OpenTelemetry SDK.
 *
 *   trace    the root task's trace: the trace id the delegation stage put in the outbound `traceparent`
 *            (the caller's own trace when it sent a valid one, else the root task id's bits); for a call the
 *            stage refused, the caller's trace id, else the task's
 *   span     derived from the call id (spanIdOf), so the outbound `traceparent` already names it and the
 *            callee's own spans hang under the gateway's
 *   parent   the calling hop: the span of the call in which the caller was called (the parent call id from
 *            the verified delegation context); for a root call, the caller's span from its `traceparent`
 *   a call refused before governance (policy, limits) has no verified context: it joins the caller's trace
 *            when it sent a `traceparent`, else it is a trace of its own
 */
import { hash } from 'node:crypto';
import { parseTraceparent } from '../governance/delegation/traceparent.js';

export interface SpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** ms since epoch */
  startMs: number;
  endMs: number;
  error: boolean;
  attributes: Record<string, string | number>;
}

/** What a span is built from (the exchange and its delegation handle provide it). */
export interface CallFacts {
  callerId: string;
  callerName: string;
  callee: string;
  calleeId: string;
  method: string;
  decision: string;
  reason: string;
  status: number;
  /** ms since epoch at arrival (high resolution) */
  startMs: number;
  durationUs: number;
  /** the inbound `traceparent` */
  traceparent: string | undefined;
  /** `tollgate-cost` the callee reported (undefined: none) */
  cost: number | undefined;
  /** the delegation stage's handle, when the call reached it */
  call: { callId: string; parentCallId: string | undefined; rootTaskId: string | undefined; traceId: string | undefined } | undefined;
}

const ZERO_SPAN = '0000000000000000';

/** The span id of a call: 64 bits of SHA-256 of its id (never all zeros). */
export function spanIdOf(callId: string): string {
  const s = hash('sha256', callId, 'hex').slice(0, 16);
  return s === ZERO_SPAN ? '0000000000000001' : s;
}

/** 32 hex digits of a 22-character base64url root task id (as the delegation stage derives trace ids). */
function traceIdOfTask(rootTaskId: string | undefined): string | undefined {
  if (rootTaskId === undefined) return undefined;
  const b = Buffer.from(rootTaskId, 'base64url');
  return b.length === 16 ? b.toString('hex') : undefined;
}

export function spanOf(f: CallFacts, random: () => { traceId: string; spanId: string }): SpanSpec {
  const inbound = parseTraceparent(f.traceparent);
  const c = f.call;
  let traceId = c?.traceId ?? inbound?.traceId ?? traceIdOfTask(c?.rootTaskId);
  let spanId: string;
  let parentSpanId: string | undefined;
  if (c !== undefined) {
    spanId = spanIdOf(c.callId);
    parentSpanId = c.parentCallId !== undefined ? spanIdOf(c.parentCallId) : inbound?.traceId === traceId ? inbound?.spanId : undefined;
  } else {
    const r = random();
    spanId = r.spanId;
    parentSpanId = inbound?.spanId;
  }
  traceId ??= random().traceId;
  const attributes: Record<string, string | number> = {
    'rpc.system': 'a2a',
    'rpc.method': f.method,
    'tollgate.caller.id': f.callerId,
    'tollgate.caller.name': f.callerName,
    'tollgate.callee.name': f.callee,
    'tollgate.callee.id': f.calleeId,
    'tollgate.decision': f.decision,
    'http.response.status_code': f.status,
  };
  if (f.decision !== 'allow') attributes['tollgate.refusal.reason'] = f.reason;
  else if (f.reason !== 'ok') attributes['tollgate.error'] = f.reason;
  if (f.cost !== undefined) attributes['tollgate.cost'] = f.cost;
  if (c !== undefined) {
    attributes['tollgate.call.id'] = c.callId;
    if (c.rootTaskId !== undefined) attributes['tollgate.task.id'] = c.rootTaskId;
  }
  return {
    traceId,
    spanId,
    parentSpanId,
    name: `${f.method} ${f.callee || 'unknown'}`,
    startMs: f.startMs,
    endMs: f.startMs + f.durationUs / 1000,
    error: f.decision !== 'allow' || f.status === 0 || f.status >= 500,
    attributes,
  };
}
