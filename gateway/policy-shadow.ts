/**
 * The admin API's policy answers, wired from the parts that know them: `ctl policy explain` from the running
 * config (policy-explain.ts), `ctl policy diff` from the proxy's shadow counts (proxy/shadow.ts), and how the
 * proxy's shadow comparison reads a call's chain conditions (the delegation stage verifies the context).
 * Plain conversions to the admin.proto messages; control/ cannot import the proxy or governance itself.
 */
import type { Config } from '../config/schema.js';
import type { ExplainQuery } from '../control/admin/index.js';
import type { PolicyDiff, PolicyExplanation } from '../protocol/admin.js';
import type { Exchange } from '../proxy/index.js';
import type { ShadowDiffs } from '../proxy/shadow.js';
import type { ChainRule } from '../config/schema.js';
import type { DelegationStage } from '../governance/delegation/index.js';
import { checkChain } from '../governance/delegation/chain-policy.js';
import { explainCall } from './policy-explain.js';

export function explainMsg(config: Config, q: ExplainQuery): PolicyExplanation {
  const e = explainCall(config, q);
  return { ...e, rules: e.rules.map((r) => ({ rule: r.rule, verdict: r.verdict, allows: r.allows })) };
}

/** `ctl policy diff` and `ctl limits diff` (the shadow rate limits' counts have the same shape). */
export function policyDiffMsg(diffs: ShadowDiffs<string>, limit: number): Pick<PolicyDiff, 'sinceUnixMs' | 'evaluated' | 'counts' | 'recent'> {
  const s = diffs.snapshot(limit);
  return {
    sinceUnixMs: s.since,
    evaluated: s.evaluated,
    counts: s.counts,
    recent: s.recent.map((c) => ({
      timeUnixMs: c.time,
      callerId: c.callerId,
      caller: c.caller,
      callee: c.callee,
      method: c.method,
      verdict: c.verdict,
      active: c.active,
      shadow: c.shadow,
    })),
  };
}

/** Does one of the chain rules hold for the call's verified chain (undefined: its context does not verify)? */
export function shadowChainHolds(stage: DelegationStage): (ex: Exchange, rules: readonly ChainRule[]) => boolean | undefined {
  return (ex, rules) => {
    const chain = stage.chainOf(ex);
    return chain === undefined ? undefined : checkChain(rules, chain, ex.callee) === undefined;
  };
}
