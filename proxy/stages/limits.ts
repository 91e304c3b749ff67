import type { LimitKind, Limiter } from '../ratelimit/limiter.js';
import { refusal, RPC_CODE, type Refusal } from '../errors.js';
import type { Exchange } from '../exchange.js';

/**
 * Stage "limits": token buckets per caller and per edge, concurrency cap per callee (proxy/ratelimit/).
 * On success a concurrency slot is held (ex.holdsSlot): the pipeline gives it back when the exchange finishes
 * (releaseSlots). With shadow rate limits the shadow limiter is asked too (ratelimit/shadow.ts), never enforced.
 */
export function limitsStage(limiter: Limiter, ex: Exchange): Refusal | undefined {
  const callee = ex.callee;
  const d = limiter.acquire(ex.callerId, callee, ex.startMs);
  const shadow = ex.rt.shadowLimits;
  if (shadow !== undefined) shadow.observe(ex, d);
  if (d.ok) {
    ex.holdsSlot = true;
    return undefined;
  }
  return limitRefusal(d.limit, callee, d.retryAfterSec);
}

/** Give back the concurrency slots the limits stage took (the enforced one and the shadow one), once. */
export function releaseSlots(ex: Exchange): void {
  if (ex.holdsSlot) {
    ex.holdsSlot = false;
    ex.rt.limiter.release(ex.callee);
  }
  if (ex.holdsShadowSlot) {
    ex.holdsShadowSlot = false;
    ex.rt.shadowLimits?.limiter.release(ex.callee);
  }
}

/**
 * The 429 for a rate limit, from this stage or from the same limits enforced fleet-wide (gateway/
 * fleet-governance.ts passes `scope: 'fleet'`).
 */
export function limitRefusal(limit: LimitKind, callee: string, retryAfterSec: number, scope?: 'fleet'): Refusal {
  const retry = Math.max(1, Math.ceil(retryAfterSec));
  const what =
    limit === 'caller' ? 'your call rate' : limit === 'edge' ? `your call rate to agent "${callee}"` : `the number of calls in flight to agent "${callee}"`;
  return refusal(429, RPC_CODE.rateLimited, limit, `rate limited: ${what} is over the ${scope === 'fleet' ? 'fleet-wide ' : ''}limit; retry after ${retry} s`, {
    retryAfterSec: retry,
    data: scope === undefined ? { limit, retryAfterSec: retry } : { limit, retryAfterSec: retry, scope },
  });
}
