import { CodedError } from '../protocol/errors.js';
import type { ServerResponse } from 'node:http';
import type { Refusal } from '../protocol/refusal.js';

/**
 * Errors of the proxy layer, and the ONE place a refusal becomes an HTTP status + JSON-RPC error body.
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
  conflict: -31409,
  tooLarge: -31413,
  tooManyHeaders: -31431,
  rateLimited: -31429,
  badGateway: -31502,
  unavailable: -31503,
  gatewayTimeout: -31504,
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
