import { randomHex16, randomHex8 } from './ids.js';

/**
 * W3C Trace Context `traceparent`: "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>".
 * The gateway is a hop in the trace: it keeps the inbound trace id and flags and puts its own span id as the
 * parent; without a valid inbound header it starts a trace.
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: string;
}

/** Parse an inbound header; undefined if absent or invalid (per spec: then start a new trace). */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  if (header === undefined || header.length < 55) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff') return undefined;
  // version 00 has exactly four fields; later versions may append more
  if (version === '00' && rest !== undefined) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags };
}

/**
 * The outbound header: continue the inbound trace with a new span id, or start one. `newTraceId` is used when
 * starting (the stage passes the root task id's hex so a trace and a task share an id); defaults to random.
 * `spanId`: the gateway's span for this call when it exports spans (so the callee's spans hang under it).
 */
export function nextTraceparent(inbound: string | undefined, newTraceId?: string, spanId?: string): { header: string; traceId: string } {
  const p = parseTraceparent(inbound);
  const traceId = p?.traceId ?? newTraceId ?? randomHex16();
  const flags = p ? p.flags : '01';
  return { header: `00-${traceId}-${spanId ?? randomHex8()}-${flags}`, traceId };
}
