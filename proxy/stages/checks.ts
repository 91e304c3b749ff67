import type { Exchange } from '../exchange.js';
import type { Refusal } from '../errors.js';
import type { Governance } from '../governance.js';
import { isLimitReason } from '../ratelimit/limiter.js';
import { chainUnverifiable } from './authorize.js';
import { governanceStage } from './governance.js';
import { limitsStage } from './limits.js';

/**
 * The last checks before a call is forwarded, the same on both bindings (pipeline.ts, grpc/calls.ts):
 * 5. limits, 6. governance (which may answer asynchronously: fleet-wide limits on Redis), then `forward`,
 * or the refusal. `forward` is made once per binding, not per call.
 */
export function limitsThenGovernance(ex: Exchange, governance: Governance | undefined, forward: (ex: Exchange) => void): void {
  const limiter = ex.rt.limiter;
  if (limiter.enabled || ex.rt.shadowLimits !== undefined) {
    const limited = limitsStage(limiter, ex);
    if (limited !== undefined) {
      ex.refuse(limited, 'limit');
      return;
    }
  }
  if (governance === undefined) {
    // a chain rule cannot be checked without the delegation stage: fail closed
    if (ex.chainRules === undefined) forward(ex);
    else ex.refuse(chainUnverifiable(ex));
    return;
  }
  const d = governanceStage(governance, ex);
  if (d === undefined) forward(ex);
  else if (typeof (d as Promise<unknown>).then === 'function') {
    void (d as Promise<Refusal | undefined>).then((r) => {
      if (r === undefined) forward(ex);
      else refuseGoverned(ex, r);
    });
  } else refuseGoverned(ex, d as Refusal);
}

function refuseGoverned(ex: Exchange, r: Refusal): void {
  ex.refuse(r, isLimitReason(r.reason) ? 'limit' : 'refuse');
}

/** Tell governance an allowed call's response started (a failing observer must not break a call that succeeded upstream). */
export function observeResponse(governance: Governance | undefined, ex: Exchange): void {
  if (governance === undefined) return;
  try {
    governance.onResponse(ex);
  } catch {
    // observers cannot change the outcome
  }
}

/** Tell governance a forwarded call is over. */
export function observeComplete(governance: Governance | undefined, ex: Exchange): void {
  if (governance === undefined) return;
  try {
    governance.onComplete(ex);
  } catch {
    // observers cannot change the outcome
  }
}

/** Tell governance a call was refused (only calls: cards and the directory are not governed). */
export function observeRefused(governance: Governance | undefined, ex: Exchange, r: Refusal): void {
  if (governance === undefined || !ex.isCall) return;
  try {
    governance.onRefused(ex, r);
  } catch {
    // observers cannot change the outcome
  }
}
