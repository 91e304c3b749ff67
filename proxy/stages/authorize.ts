import { decideAuthorize, type Grants } from '../policy.js';
import { refusal, RPC_CODE, type Refusal } from '../errors.js';
import type { Exchange } from '../exchange.js';

/**
 * Stage "authorize": default deny; the decision is proxy/policy.ts decideAuthorize, this maps it to a refusal.
 * With shadow rules (config shadowPolicy) their decision is compared with it here (shadow.ts); never enforced.
 */
export function authorizeStage(grants: Grants, ex: Exchange): Refusal | undefined {
  const { callerId, callee, method } = ex;
  const d = decideAuthorize(grants, callee, method);
  const shadow = ex.rt.shadow;
  if (shadow !== undefined) shadow.diffs.observe(ex, d, shadow.policy);
  if (d.allow) {
    if (d.chain !== undefined) ex.chainRules = d.chain;
    return undefined;
  }
  if (d.reason === 'no_rule') {
    return refusal(
      403,
      RPC_CODE.forbidden,
      'no_rule',
      `${callerId} is not allowed to call agent "${callee}": no policy rule allows it (ask an operator to add one)`,
      {
        data: { caller: callerId, callee },
      },
    );
  }
  if (d.reason === 'not_a2a') {
    return refusal(
      403,
      RPC_CODE.forbidden,
      'not_a2a',
      `${callerId} may call agent "${callee}", but this request is not an A2A method (${ex.httpMethod} ${ex.rest || '/'}); a policy rule allows other requests only with nonA2A: true`,
      { data: { caller: callerId, callee, method } },
    );
  }
  return refusal(403, RPC_CODE.forbidden, 'method_not_allowed', `${callerId} may call agent "${callee}" but not the method ${method}`, {
    data: { caller: callerId, callee, method, allowed: [...(grants.callees.get(callee) ?? [])] },
  });
}

/** Only rules with a chain condition allow the call, and no governance is plugged in to read the chain: fail closed. */
export function chainUnverifiable(ex: Exchange): Refusal {
  const rules = ex.chainRules!.map((r) => `policy[${r.rule}]`).join(', ');
  return refusal(
    403,
    RPC_CODE.forbidden,
    'chain_not_allowed',
    `${ex.callerId} may call agent "${ex.callee}" only under conditions on the delegation chain (${rules}), and this gateway does not check delegation chains`,
    { data: { caller: ex.callerId, callee: ex.callee } },
  );
}
