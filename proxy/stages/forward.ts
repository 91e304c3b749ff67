import { performance } from 'node:perf_hooks';
import type { Exchange } from '../exchange.js';
import { refusal, refusalBody, RPC_CODE, writeRefusal, type Refusal } from '../errors.js';
import { CallCutError } from '../upstream/engine.js';
import { timeoutRefusal } from '../timeouts.js';
import { callerResponseHeaders } from '../headers.js';
import { classifyUpstreamError, type UpstreamErrorKind } from '../upstream/identity.js';
import type { Recorder } from './record.js';

/**
 * Stage "forward": the exchange goes to the agent's upstream engine (it is the engine's ForwardJob), which
 * streams the answer back. This file holds what happens around the engine: the response headers (filter,
 * stream detection, latency) and the end of the call (failures mapped to 502/504, the outcome).
 */

/**
 * What the caller is told when the gateway ends a call itself (CallCutError): a limit passed (504 naming
 * the limit and its config key) or the call's root task was cancelled by an operator (409).
 */
export function cutRefusal(ex: Exchange, err: CallCutError): Refusal {
  if (err.why === 'timeout') return timeoutRefusal(ex.callee, ex.method, ex.timeouts, err.limit ?? 'upstream');
  return refusal(
    409,
    RPC_CODE.conflict,
    'task_cancelled',
    `root task ${err.rootTaskId} was cancelled by an operator (tollgate ctl task cancel): the gateway ended this call to agent "${ex.callee}"`,
    { data: { rootTaskId: err.rootTaskId } },
  );
}

/**
 * The last event of a JSON-RPC event stream the gateway ends: a JSON-RPC error with the request's id, which
 * an A2A client raises as the stream's error. A REST stream just ends (its events carry no error envelope).
 */
export function streamEndFrame(ex: Exchange, err: CallCutError): string | undefined {
  if (!ex.isRpc) return undefined;
  return `data: ${refusalBody(cutRefusal(ex, err), ex.rpcId)}\n\n`;
}

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
  if (error instanceof CallCutError) {
    const r = cutRefusal(ex, error);
    ex.error = r.reason;
    ex.reason = r.reason;
    if (error.why === 'timeout') {
      ex.decision = 'error';
      recorder.upstreamError(ex.callee, 'timeout');
    } else {
      ex.decision = 'refuse';
      recorder.denial(ex.callerName, ex.calleeLabel, r.reason);
    }
    if (ex.status === 0) {
      ex.status = r.status;
      ex.bytesOut = writeRefusal(ex.res, r, ex.rpcId);
    }
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
