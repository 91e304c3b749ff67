/**
 * Delegation propagation. The gateway signs a `tollgate-delegation` header on each call it forwards to an
 * agent; when that agent calls onward (through the gateway), it must send the header back so the gateway
 * can follow the chain (depth, loops, budgets). The agent server helper stores the inbound headers for the
 * duration of the request handler; the mTLS fetch attaches them to outbound requests made meanwhile.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const DELEGATION_HEADER = 'tollgate-delegation';
export const TRACEPARENT_HEADER = 'traceparent';

export interface DelegationContext {
  /** the signed `tollgate-delegation` header value received from the gateway */
  delegation?: string;
  /** W3C trace context received with the call */
  traceparent?: string;
}

const storage = new AsyncLocalStorage<DelegationContext>();

/** The delegation context of the request being handled, if any. */
export function currentDelegation(): DelegationContext | undefined {
  return storage.getStore();
}

/** Run `fn` with `ctx` as the current delegation context (the server helper does this per request). */
export function runWithDelegation<T>(ctx: DelegationContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

function single(v: string | string[] | undefined): string | undefined {
  // Node joins repeated custom headers with ", "; a delegation token never contains one, so a repeated
  // header is passed on as received and the gateway refuses it rather than us picking one.
  return Array.isArray(v) ? v.join(', ') : v;
}

export function delegationFromHeaders(headers: Record<string, string | string[] | undefined>): DelegationContext {
  return { delegation: single(headers[DELEGATION_HEADER]), traceparent: single(headers[TRACEPARENT_HEADER]) };
}
