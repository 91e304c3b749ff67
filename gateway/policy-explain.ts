import type { Config, PolicyRule } from '../config/schema.js';
import { policyMethod, PUSH_NOTIFICATION_METHOD, UNKNOWN_METHOD } from '../proxy/a2a/methods.js';
import { compilePolicy, decideAuthorize } from '../proxy/policy.js';
import { chainFailure, matchesPattern } from '../governance/delegation/chain-policy.js';

/**
 * `tollgate policy explain` / `ctl policy explain`: would this call be allowed, and what decides it? Pure:
 * reads a config and a described call, never a socket, so it answers the same offline (a config file) and
 * online (the running config, admin API). Like `istioctl x authz check`: the rule that allowed it, or why
 * nothing did, then what the delegation stage would refuse from the chain alone (loop, depth, context
 * required). Rate limits and budgets depend on live counters: they are listed as the limits that apply.
 *
 * The verdict is decideAuthorize's (the function the gateway runs), so explain cannot drift from enforcement;
 * the per-rule walk only names which rule gave the answer.
 */
export interface ExplainQuery {
  /** the caller's SPIFFE ID */
  from: string;
  /** the callee's agent name */
  to: string;
  /** an A2A method (v0.3 or v1.0 name) or PushNotification; absent: SendMessage. Anything else is explained as a non-A2A request */
  method?: string;
  /** the delegation chain before the caller (initiator first); the caller is appended when it is not last */
  chain?: readonly string[];
}

export interface RuleVerdict {
  rule: number;
  /** why this rule does or does not allow the call */
  verdict: string;
  allows: boolean;
}

export interface Explanation {
  allowed: boolean;
  /** stable code: allowed | unknown_agent | no_rule | method_not_allowed | not_a2a | chain_not_allowed | loop | depth | context_required */
  reason: string;
  /** what decided: "policy[2]", "delegation.maxDepth", "agents.writer.maxRevisits", ... */
  decidedBy: string;
  message: string;
  method: string;
  /** the chain the answer assumed, initiator to caller */
  chain: string[];
  /** each rule that names the caller */
  rules: RuleVerdict[];
  /** limits with live counters that would also apply to an allowed call */
  limits: string[];
}

function fromMatches(rule: PolicyRule, id: string): boolean {
  const froms = Array.isArray(rule.from) ? rule.from : [rule.from];
  return froms.some((p) => matchesPattern(id, p));
}

function toMatches(rule: PolicyRule, agent: string): boolean {
  return rule.to === '*' || rule.to.includes('*') || rule.to.includes(agent);
}

function ruleVerdict(rule: PolicyRule, i: number, agent: string, method: string, chain: readonly string[]): RuleVerdict {
  if (!toMatches(rule, agent)) return { rule: i, allows: false, verdict: `names other callees (${rule.to === '*' ? '*' : rule.to.join(', ')})` };
  if (method === UNKNOWN_METHOD) {
    if (!rule.nonA2A) return { rule: i, allows: false, verdict: 'allows A2A methods only (no nonA2A: true)' };
  } else if (rule.methods && !rule.methods.some((m) => policyMethod(m) === method)) {
    return { rule: i, allows: false, verdict: `allows only ${rule.methods.join(', ')}` };
  }
  if (rule.chain) {
    const failed = chainFailure({ ...rule.chain, rule: i }, chain);
    if (failed !== undefined) return { rule: i, allows: false, verdict: failed };
    return { rule: i, allows: true, verdict: 'allows it (its chain condition holds)' };
  }
  return { rule: i, allows: true, verdict: 'allows it' };
}

function appliedLimits(config: Config, callerAgent: string | undefined, to: string): string[] {
  const out: string[] = [];
  const r = config.rateLimits;
  if (r.perCaller) out.push(`rateLimits.perCaller ${r.perCaller.rps}/s (burst ${r.perCaller.burst})`);
  if (r.perEdge) out.push(`rateLimits.perEdge ${r.perEdge.rps}/s (burst ${r.perEdge.burst})`);
  if (r.maxConcurrentPerCallee) out.push(`rateLimits.maxConcurrentPerCallee ${r.maxConcurrentPerCallee} (${to})`);
  const w = callerAgent ? config.agents[callerAgent]?.limits : undefined;
  if (w) for (const [k, v] of Object.entries(w)) if (v !== undefined) out.push(`agents.${callerAgent}.limits.${k} ${v}`);
  const t = config.delegation.task;
  out.push(
    `delegation.task maxCalls ${t.maxCalls}, maxFanOut ${t.maxFanOut}, maxConcurrent ${t.maxConcurrent}${t.maxCost !== undefined ? `, maxCost ${t.maxCost}` : ''}`,
  );
  return out;
}

export function explainCall(config: Config, q: ExplainQuery): Explanation {
  // policyMethod, as the gateway compiles rules: PushNotification (a push on the callback route) is one too
  const method = q.method === undefined ? 'SendMessage' : (policyMethod(q.method) ?? UNKNOWN_METHOD);
  const chain = [...(q.chain ?? [])];
  if (chain.length === 0 || chain[chain.length - 1] !== q.from) chain.push(q.from);
  const callerAgent = Object.entries(config.agents).find(([, a]) => a.id === q.from)?.[0];
  const base = { method, chain, limits: [] as string[] };
  const agent = config.agents[q.to];
  if (agent === undefined) {
    return { ...base, allowed: false, reason: 'unknown_agent', decidedBy: 'agents', message: `no agent named "${q.to}" is registered`, rules: [] };
  }
  const names = Object.keys(config.agents);
  const rules = config.policy.flatMap((r, i) => (fromMatches(r, q.from) ? [ruleVerdict(r, i, q.to, method, chain)] : []));
  // the verdict is the gateway's own: authorize, then the chain conditions governance checks
  const d = decideAuthorize(compilePolicy(config.policy, names).grantsFor(q.from), q.to, method);
  const who = `${q.from} -> ${q.to} ${method === UNKNOWN_METHOD ? '(not an A2A method)' : method}`;
  const allowing = rules.find((r) => r.allows);
  const push = method === PUSH_NOTIFICATION_METHOD;
  const needsContext = chain.length === 1 && callerAgent !== undefined && config.agents[callerAgent].requireDelegationContext;
  const contextRequired = (): Explanation => {
    const message = `${who}: ${callerAgent} must send a delegation context (requireDelegationContext) and no chain was given`;
    return { ...base, allowed: false, reason: 'context_required', decidedBy: `agents.${callerAgent}.requireDelegationContext`, message, rules };
  };
  // a call: the delegation stage asks for the context before it reads the chain (decide.ts); a push the other way round (stage.ts beforePush)
  if (d.allow && needsContext && !push) return contextRequired();
  if (!d.allow || allowing === undefined) {
    const reason = !d.allow ? d.reason : 'chain_not_allowed';
    // why: the chain-conditional rules that would allow the call, else the rules naming this callee, else every rule naming the caller
    const conditional = d.allow && d.chain !== undefined ? new Set(d.chain.map((c) => c.rule)) : undefined;
    const relevant = rules.filter((r) => (conditional ? conditional.has(r.rule) : toMatches(config.policy[r.rule], q.to)));
    const named = relevant.length > 0 ? relevant : rules;
    const decidedBy =
      rules.length === 0 ? 'no rule names the caller' : relevant.length === 0 ? 'no rule names this callee' : named.map((r) => `policy[${r.rule}]`).join(', ');
    const message =
      reason === 'no_rule' && rules.length === 0
        ? `${who}: denied, no policy rule names this caller`
        : `${who}: denied, ${named.map((r) => `policy[${r.rule}] ${r.verdict}`).join('; ')}`;
    return { ...base, allowed: false, reason, decidedBy, message, rules };
  }
  // a push reports back to an agent already on the chain: no loop or depth check (governance/delegation/push.ts)
  if (push) return needsContext ? contextRequired() : allowed(base, who, allowing.rule, rules, config, callerAgent, q.to);
  // what the delegation stage refuses from the chain alone
  const depth = chain.length;
  const revisits = chain.filter((id) => id === agent.id).length;
  if (revisits > agent.maxRevisits) {
    const message = `${who}: policy[${allowing.rule}] allows it, but ${q.to} is already on the chain: a loop (agents.${q.to}.maxRevisits ${agent.maxRevisits}) is refused with 508`;
    return { ...base, allowed: false, reason: 'loop', decidedBy: `agents.${q.to}.maxRevisits`, message, rules };
  }
  if (depth > config.delegation.maxDepth) {
    const message = `${who}: policy[${allowing.rule}] allows it, but the call is hop ${depth}, over delegation.maxDepth ${config.delegation.maxDepth} (508)`;
    return { ...base, allowed: false, reason: 'depth', decidedBy: 'delegation.maxDepth', message, rules };
  }
  return allowed(base, who, allowing.rule, rules, config, callerAgent, q.to);
}

function allowed(
  base: Pick<Explanation, 'method' | 'chain'>,
  who: string,
  rule: number,
  rules: RuleVerdict[],
  config: Config,
  callerAgent: string | undefined,
  to: string,
): Explanation {
  return {
    ...base,
    allowed: true,
    reason: 'allowed',
    decidedBy: `policy[${rule}]`,
    message: `${who}: allowed by policy[${rule}]`,
    rules,
    limits: appliedLimits(config, callerAgent, to),
  };
}

/** The explanation as the CLI prints it. */
export function renderExplanation(e: Explanation): string {
  const lines = [`${e.allowed ? 'ALLOW' : 'DENY'}  ${e.message}`, `  decided by: ${e.decidedBy} (${e.reason})`];
  if (e.chain.length > 1) lines.push(`  chain: ${e.chain.join(' -> ')}`);
  for (const r of e.rules) lines.push(`  policy[${r.rule}]: ${r.verdict}`);
  if (e.limits.length > 0) lines.push('  limits that also apply (live counters):', ...e.limits.map((l) => `    ${l}`));
  return lines.join('\n') + '\n';
}
