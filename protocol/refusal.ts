/**
 * A refusal: the gateway answers instead of the callee. One shape for every stage that can refuse (identity,
 * route, authorize, limits, governance); the proxy turns it into an HTTP status and a JSON-RPC error body in
 * one place (proxy/errors.ts writeRefusal).
 */
export interface Refusal {
  /** HTTP status */
  readonly status: number;
  /** JSON-RPC error code */
  readonly code: number;
  /** stable reason: a bounded metric label, the audit line's reason, what tests assert */
  readonly reason: string;
  /** safe to show the caller; says what to do about it */
  readonly message: string;
  /** seconds, for a Retry-After header; absent when waiting cannot help */
  readonly retryAfterSec?: number;
  /** JSON-RPC error `data` */
  readonly data?: unknown;
}

export function refusal(status: number, code: number, reason: string, message: string, extra?: { retryAfterSec?: number; data?: unknown }): Refusal {
  return { status, code, reason, message, retryAfterSec: extra?.retryAfterSec, data: extra?.data };
}
