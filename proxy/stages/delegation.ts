import type { ExtraStages, RequestContext } from '../context.js';
import { refusal, RPC_CODE, type Refusal } from '../errors.js';

/**
 * Stage "delegation": the slot where governance/delegation (loop detection, budgets, delegation context) plugs
 * in through ExtraStages.beforeForward. A hook that throws fails closed: the call is refused, never
 * forwarded unchecked.
 */
export function delegationStage(stages: ExtraStages, ctx: RequestContext): Refusal | undefined | Promise<Refusal | undefined> {
  const hook = stages.beforeForward;
  if (hook === undefined) return undefined;
  try {
    const r = hook(ctx);
    if (r !== undefined && typeof (r as Promise<unknown>).then === 'function') return (r as Promise<Refusal | undefined>).catch(hookFailed);
    return r as Refusal | undefined;
  } catch (e) {
    return hookFailed(e);
  }
}

function hookFailed(_e: unknown): Refusal {
  return refusal(503, RPC_CODE.unavailable, 'delegation_error', 'the gateway could not check this call\'s delegation context; try again later');
}
