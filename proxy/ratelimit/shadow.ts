import type { RateLimits } from '../../config/schema.js';
import type { Exchange } from '../exchange.js';
import type { ShadowDiffs } from '../shadow.js';
import { Limiter, type LimitDecision } from './limiter.js';

/**
 * Shadow rate limits (config shadowRateLimits): a second Limiter, built at config load only when shadow limits
 * are set, asked beside the enforced one in the limits stage and never enforced. A call it decides differently
 * is counted (tollgate_limits_shadow_diff_total{caller,callee,verdict}), kept for `tollgate ctl limits diff`
 * and logged (throttled), with the policy shadow's bookkeeping (proxy/shadow.ts):
 *
 *   would_limit  rateLimits allow the call, the shadow limits would refuse it (429)
 *   would_allow  rateLimits refuse it, the shadow limits would allow it
 *
 * The shadow limiter keeps its own buckets and in-flight counts as if it were enforced: a call it allows takes
 * its tokens and a concurrency slot (ex.holdsShadowSlot), given back where the enforced slot is
 * (stages/limits.ts releaseSlots, when the exchange finishes). Counts are per replica.
 */
export type LimitsShadowVerdict = 'would_limit' | 'would_allow';

/** Pure: how the shadow decision differs from the enforced one, or undefined when they agree. */
export function limitsVerdict(active: LimitDecision, shadow: LimitDecision): LimitsShadowVerdict | undefined {
  if (active.ok === shadow.ok) return undefined;
  return active.ok ? 'would_limit' : 'would_allow';
}

/** 'allowed' or the limit that refuses ('caller', 'edge', 'concurrency'). */
export function limitOutcome(d: LimitDecision): string {
  return d.ok ? 'allowed' : d.limit;
}

export class ShadowLimits {
  constructor(
    readonly limiter: Limiter,
    readonly diffs: ShadowDiffs<LimitsShadowVerdict>,
  ) {}

  /**
   * Ask the shadow limiter about the call the enforced limiter decided `active`; record a difference. Never
   * refuses: on a shadow success the shadow slot is marked held on the exchange, to be released at its end.
   */
  observe(ex: Exchange, active: LimitDecision): void {
    const shadow = this.limiter.acquire(ex.callerId, ex.callee, ex.startMs);
    if (shadow.ok) ex.holdsShadowSlot = true;
    this.diffs.observed();
    const verdict = limitsVerdict(active, shadow);
    if (verdict === undefined) return;
    this.diffs.record({
      time: ex.startMs,
      callerId: ex.callerId,
      caller: ex.callerName,
      callee: ex.calleeLabel,
      method: ex.method,
      verdict,
      active: limitOutcome(active),
      shadow: limitOutcome(shadow),
    });
  }
}

/**
 * The shadow limiter for a config: undefined without shadowRateLimits (no second limiter, no cost); the
 * previous one (its buckets and in-flight counts) when the shadow limits did not change.
 */
export function compileShadowLimits(
  limits: RateLimits | undefined,
  previous: ShadowLimits | undefined,
  previousLimits: RateLimits | undefined,
  diffs: ShadowDiffs<LimitsShadowVerdict> | undefined,
): ShadowLimits | undefined {
  if (limits === undefined || diffs === undefined) return undefined;
  if (previous !== undefined && JSON.stringify(previousLimits) === JSON.stringify(limits)) return previous;
  return new ShadowLimits(new Limiter(limits), diffs);
}
