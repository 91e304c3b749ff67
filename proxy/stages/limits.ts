import type { Limiter } from '../ratelimit/limiter.js';
import { refusal, RPC_CODE, type Refusal } from '../errors.js';
import type { Exchange } from '../exchange.js';

/**
 * Stage "limits": token buckets per caller and per edge, concurrency cap per callee (proxy/ratelimit/).
 * On success a concurrency slot is held (ex.holdsSlot): the pipeline gives it back when the exchange finishes.
 */
export function limitsStage(limiter: Limiter, ex: Exchange): Refusal | undefined {
  const callee = ex.callee;
  const d = limiter.acquire(ex.callerId, callee, ex.startMs);
  if (d.ok) {
    ex.holdsSlot = true;
    return undefined;
  }
  const retry = Math.max(1, Math.ceil(d.retryAfterSec));
  const what =
    d.limit === 'caller' ? 'your call rate' : d.limit === 'edge' ? `your call rate to agent "${callee}"` : `the number of calls in flight to agent "${callee}"`;
  return refusal(429, RPC_CODE.rateLimited, d.limit, `rate limited: ${what} is over the limit; retry after ${retry} s`, {
    retryAfterSec: retry,
    data: { limit: d.limit, retryAfterSec: retry },
  });
}
