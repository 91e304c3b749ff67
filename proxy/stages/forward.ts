import { performance } from 'node:perf_hooks';
import type { Exchange } from '../exchange.js';
import { refusal, RPC_CODE, writeRefusal, type Refusal } from '../errors.js';
import { callerResponseHeaders } from '../headers.js';
import { classifyUpstreamError, type UpstreamErrorKind } from '../upstream/identity.js';
import type { Recorder } from './record.js';

/**
 * Stage "forward": the exchange goes to the agent's upstream engine (it is the engine's ForwardJob), which
 * streams the answer back. This file holds what happens around the engine: the response headers (filter,
 * stream detection, latency) and the end of the call (failures mapped to 502/504, the outcome).
 */
export function upstreamFailure(kind: UpstreamErrorKind, callee: string): Refusal {
  switch (kind) {
    case 'timeout':
      return refusal(504, RPC_CODE.gatewayTimeout, 'timeout', `agent "${callee}" did not answer in time`);
    case 'refused':
      return refusal(502, RPC_CODE.badGateway, 'refused', `agent "${callee}" is unreachable (connection refused)`);
    case 'reset':
      return refusal(502, RPC_CODE.badGateway, 'reset', `agent "${callee}" closed the connection`);
    case 'identity':
      return refusal(502, RPC_CODE.badGateway, 'identity', `agent "${callee}" did not present its registered identity; the gateway refused to talk to it`);
    default:
      return refusal(502, RPC_CODE.badGateway, 'other', `the call to agent "${callee}" failed`);
  }
}

const EVENT_STREAM = 'text/event-stream';

/** The upstream's response headers arrived: filter them for the caller, note a stream, observe latency. */
export function upstreamResponded(ex: Exchange, status: number, raw: readonly (Buffer | string)[], recorder: Recorder): string[] {
  ex.status = status;
  const headers = callerResponseHeaders(raw);
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'content-type' && headers[i + 1].startsWith(EVENT_STREAM)) ex.streaming = true;
  }
  ex.responseHeaders = headers;
  recorder.latency(ex.callee, ex.method, (performance.now() - ex.t0) / 1000);
  return headers;
}

/**
 * The forwarded call is over. Maps an upstream failure before any response to 502/504 (written here), a
 * caller that went away to 499, and sets the exchange's outcome for the record.
 */
export function upstreamEnded(ex: Exchange, bytesOut: number, error: unknown, recorder: Recorder): void {
  ex.bytesOut = bytesOut;
  if (error === undefined) return; // decision 'allow', reason 'ok', status from the response
  if ((error as { code?: string }).code === 'ERR_TOLLGATE_CLIENT_ABORT') {
    ex.error = 'client_abort';
    ex.reason = 'client_abort';
    if (ex.status === 0) ex.status = 499; // nginx's "client closed request": nothing was sent
    return;
  }
  const kind = classifyUpstreamError(error);
  ex.error = kind;
  ex.reason = kind;
  ex.decision = 'error';
  recorder.upstreamError(ex.callee, kind);
  if (!ex.res.headersSent) {
    // nothing reached the caller yet (the upstream failed before answering, or while a response that is
    // rewritten before it goes out was being read): the caller gets a refusal
    const r = upstreamFailure(kind, ex.callee);
    ex.status = r.status;
    ex.bytesOut = writeRefusal(ex.res, r, ex.rpcId);
  }
}
