import { CodedError } from '../protocol/errors.js';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants as h2, type ServerHttp2Stream } from 'node:http2';
import type { Refusal } from '../protocol/refusal.js';

/**
 * Errors of the proxy layer, and the ONE place a refusal is written: an HTTP status + JSON-RPC error body
 * (writeRefusal), or on the gRPC binding a gRPC status (writeGrpcRefusal, below).
 *
 * A2A defines no JSON-RPC codes for authentication, authorization or rate limits (it says: use HTTP
 * 401/403/429), and reserves -32001..-32099 for itself. Gateway codes therefore live outside every reserved
 * range, as -31000 - <HTTP status>, so a caller can read both from the number.
 */
export type ProxyErrorCode = 'config' | 'credentials' | 'listen' | 'internal';

/** Startup / reload errors: stable code, message safe to show, cause for logs. */
export class ProxyError extends CodedError<ProxyErrorCode> {
  constructor(code: ProxyErrorCode, publicMessage: string, options?: { cause?: unknown }) {
    super(code, publicMessage, options);
    this.name = 'ProxyError';
  }
}

export const RPC_CODE = {
  badRequest: -31400,
  unauthenticated: -31401,
  forbidden: -31403,
  notFound: -31404,
  methodNotAllowed: -31405,
  conflict: -31409,
  tooLarge: -31413,
  unsupportedMediaType: -31415,
  tooManyHeaders: -31431,
  rateLimited: -31429,
  notImplemented: -31501,
  badGateway: -31502,
  unavailable: -31503,
  gatewayTimeout: -31504,
  httpVersion: -31505,
} as const;

// One Refusal type for every stage, governance's included (protocol/refusal.ts).
export { refusal, type Refusal } from '../protocol/refusal.js';

/** `{"jsonrpc":"2.0","id":<request id>,"error":{code,message,data}}`: the SDK client reads it on any status. */
export function refusalBody(r: Refusal, id: string | number | null): string {
  const data =
    r.data === undefined ? { reason: r.reason } : { reason: r.reason, ...(typeof r.data === 'object' && r.data !== null ? r.data : { detail: r.data }) };
  return JSON.stringify({ jsonrpc: '2.0', id, error: { code: r.code, message: r.message, data } });
}

/** Send a refusal. Returns the body length (for the audit line). */
export function writeRefusal(res: ServerResponse, r: Refusal, id: string | number | null, closeConnection = false): number {
  const body = refusalBody(r, id);
  const len = Buffer.byteLength(body);
  if (res.headersSent) {
    // Too late for a status: the stream already started. Cut it so the caller sees a broken stream, not a success.
    res.destroy();
    return 0;
  }
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': len, 'cache-control': 'no-store' };
  if (r.retryAfterSec !== undefined) headers['retry-after'] = Math.max(1, Math.ceil(r.retryAfterSec));
  if (closeConnection) headers.connection = 'close';
  res.writeHead(r.status, headers);
  res.end(body);
  return len;
}

// ---- the gRPC binding (proxy/grpc/): the same refusals, gRPC-shaped ----

/** gRPC status codes (grpc/doc/statuscodes.md). */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/**
 * The gRPC status of a refusal, from its HTTP status: 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 429 (and
 * 413/431: a request over a size limit) RESOURCE_EXHAUSTED, 502/503 UNAVAILABLE, 504 DEADLINE_EXCEEDED,
 * 400 INVALID_ARGUMENT, 404 NOT_FOUND, 409 ABORTED (a cancelled task), 508 FAILED_PRECONDITION (a loop or a
 * depth limit: retrying the same call cannot help), 501/505 UNIMPLEMENTED.
 */
export function grpcStatusOf(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GRPC_STATUS.INVALID_ARGUMENT;
    case 401:
      return GRPC_STATUS.UNAUTHENTICATED;
    case 403:
      return GRPC_STATUS.PERMISSION_DENIED;
    case 404:
      return GRPC_STATUS.NOT_FOUND;
    case 409:
      return GRPC_STATUS.ABORTED;
    case 413:
    case 429:
    case 431:
      return GRPC_STATUS.RESOURCE_EXHAUSTED;
    case 501:
    case 505:
      return GRPC_STATUS.UNIMPLEMENTED;
    case 502:
    case 503:
      return GRPC_STATUS.UNAVAILABLE;
    case 504:
      return GRPC_STATUS.DEADLINE_EXCEEDED;
    case 508:
      return GRPC_STATUS.FAILED_PRECONDITION;
    default:
      return httpStatus >= 500 ? GRPC_STATUS.INTERNAL : GRPC_STATUS.UNKNOWN;
  }
}

// google.rpc.Code's documented HTTP mapping, by gRPC code
const HTTP_OF_GRPC = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

/** The HTTP status a gRPC status stands for in metrics, the audit line and the call graph (google.rpc.Code). */
export function httpStatusOfGrpc(code: number): number {
  return code >= 0 && code < HTTP_OF_GRPC.length ? HTTP_OF_GRPC[code] : 500;
}

/** grpc-message is percent-encoded UTF-8: bytes outside 0x20-0x7e, and '%' itself, become %XX. */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length && plain; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) plain = false;
  }
  if (plain) return message;
  let out = '';
  for (const b of Buffer.from(message, 'utf8'))
    out += b < 0x20 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  return out;
}

/** The status part of a gRPC refusal: grpc-status, grpc-message, the stable reason and Retry-After. */
export function grpcRefusalTrailers(r: Refusal): OutgoingHttpHeaders {
  const t: OutgoingHttpHeaders = { 'grpc-status': String(grpcStatusOf(r.status)), 'grpc-message': encodeGrpcMessage(r.message), 'tollgate-reason': r.reason };
  if (r.retryAfterSec !== undefined) t['retry-after'] = String(Math.max(1, Math.ceil(r.retryAfterSec)));
  return t;
}

/**
 * Send a refusal on the gRPC binding: a trailers-only response (HTTP 200, content-type application/grpc,
 * grpc-status + grpc-message). A response that already started is cut (RST_STREAM): the engine ends a started
 * stream with grpcRefusalTrailers itself. Returns the bytes of body sent (none).
 */
export function writeGrpcRefusal(stream: ServerHttp2Stream, r: Refusal): number {
  if (stream.destroyed || stream.closed) return 0;
  if (stream.headersSent) {
    stream.close(h2.NGHTTP2_INTERNAL_ERROR);
    return 0;
  }
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...grpcRefusalTrailers(r) }, { endStream: true });
  return 0;
}

/** A refusal to a request over HTTP/2 that is not a gRPC call: HTTP status + JSON-RPC error body, as on HTTP/1.1. */
export function writeH2Refusal(stream: ServerHttp2Stream, r: Refusal): number {
  if (stream.destroyed || stream.closed || stream.headersSent) return 0;
  const body = refusalBody(r, null);
  const len = Buffer.byteLength(body);
  stream.respond({ ':status': r.status, 'content-type': 'application/json', 'content-length': len, 'cache-control': 'no-store' });
  stream.end(body);
  return len;
}
