import type { Exchange } from '../exchange.js';
import type { Governance } from '../governance.js';
import { refusal, RPC_CODE, type Refusal } from '../errors.js';

/**
 * Stage "governance": the slot where governance/delegation (loop detection, budgets, the signed delegation
 * context) plugs in (proxy/governance.ts). A hook that throws fails closed: the call is refused, never
 * forwarded unchecked.
 */
export function governanceStage(governance: Governance, ex: Exchange): Refusal | undefined | Promise<Refusal | undefined> {
  try {
    const r = governance.beforeForward(ex);
    if (r !== undefined && typeof (r as Promise<unknown>).then === 'function') return (r as Promise<Refusal | undefined>).catch(hookFailed);
    return r;
  } catch (e) {
    return hookFailed(e);
  }
}

function hookFailed(_e: unknown): Refusal {
  return refusal(503, RPC_CODE.unavailable, 'delegation_error', "the gateway could not check this call's delegation context; try again later");
}
