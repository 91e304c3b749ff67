/**
 * Delegation propagation. The gateway signs a `tollgate-delegation` header on each call it forwards to an
 * agent; when that agent calls onward (through the gateway), it must send the header back so the gateway
 * can follow the chain (depth, loops, budgets). The agent server helper stores the inbound headers for the
 * duration of the request handler; the mTLS fetch attaches them to outbound requests made meanwhile.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const DELEGATION_HEADER = 'tollgate-delegation';
export const TRACEPARENT_HEADER = 'traceparent';
/** Attenuation: what the callee of an onward call may pass on (the gateway signs it into the callee's context). */
export const SCOPE_HEADER = 'tollgate-scope';

export interface DelegationContext {
  /** the signed `tollgate-delegation` header value received from the gateway */
  delegation?: string;
  /** W3C trace context received with the call */
  traceparent?: string;
  /** a `tollgate-scope` value sent with onward calls made meanwhile (withScope) */
  scope?: string;
}

/** What a delegate may pass on: only to these agents, only these methods, before a deadline, under a cost cap. */
export interface DelegationScope {
  agents?: readonly string[];
  methods?: readonly string[];
  /** a duration from the moment of the call, e.g. "30s", "5m", or milliseconds */
  deadline?: string | number;
  maxCost?: number;
}

/** The `tollgate-scope` header value for a scope (the gateway validates it and refuses a bad one with 400). */
export function scopeHeader(scope: DelegationScope): string {
  const parts: string[] = [];
  if (scope.agents !== undefined) parts.push(`agents=${scope.agents.join(',')}`);
  if (scope.methods !== undefined) parts.push(`methods=${scope.methods.join(',')}`);
  if (scope.deadline !== undefined) parts.push(`deadline=${typeof scope.deadline === 'number' ? `${scope.deadline}ms` : scope.deadline}`);
  if (scope.maxCost !== undefined) parts.push(`maxCost=${scope.maxCost}`);
  return parts.join('; ');
}

/**
 * Run `fn` so that onward calls made through createMtlsFetch meanwhile narrow what their callees may pass on.
 * The gateway binds the scope into the callee's signed context; it can only narrow along the chain.
 */
export function withScope<T>(scope: DelegationScope, fn: () => T): T {
  return storage.run({ ...(storage.getStore() ?? {}), scope: scopeHeader(scope) }, fn);
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
