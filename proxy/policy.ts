import { policyMethod, UNKNOWN_METHOD } from './a2a/methods.js';
import { ProxyError } from './errors.js';
import type { ChainRule, PolicyRule } from '../config/schema.js';

/**
 * Authorization policy: default deny. A rule allows callers matching `from` (exact SPIFFE ID or a
 * `<prefix>/*` pattern: any ID strictly under that path) to call the agents in `to` ('*' = every registered
 * agent), optionally only the listed `methods` (v0.3 or v1.0 names; compared in canonical form).
 *
 * Compiled at config load; what a caller may do is computed once per caller ID and memoized, so a request
 * costs two Map lookups.
 */
interface CompiledRule {
  exact: Set<string>;
  prefixes: string[]; // 'spiffe://td/user/' for 'spiffe://td/user/*'
  toAll: boolean;
  to: Set<string>;
  methods: ReadonlySet<string> | null; // null = every A2A method
  nonA2A: boolean;
  /** the rule applies only when the delegation chain satisfies this (checked by governance) */
  chain: ChainRule | undefined;
}

/** A rule that allows a callee only when the delegation chain satisfies its condition. */
interface ConditionalGrant {
  readonly methods: ReadonlySet<string> | null;
  readonly nonA2A: boolean;
  readonly chain: ChainRule;
}

/** What one caller may call: callee name -> allowed canonical methods (null = every A2A method). */
export interface Grants {
  /** the caller matched at least one rule's `from` (used for the 'external' metric label) */
  readonly known: boolean;
  readonly callees: ReadonlyMap<string, ReadonlySet<string> | null>;
  /** callees this caller may also send requests that are not A2A methods (rule `nonA2A: true`) */
  readonly nonA2A: ReadonlySet<string>;
  /** callee -> rules with a chain condition (tried when no unconditional rule allows the call) */
  readonly conditional: ReadonlyMap<string, readonly ConditionalGrant[]>;
}

export interface Policy {
  grantsFor(callerId: string): Grants;
}

/**
 * allow with `chain`: only rules with a chain condition allow the call; governance checks the delegation
 * chain against them (any one satisfied allows it) once it has verified the context.
 */
export type AuthzDecision = { allow: true; chain?: readonly ChainRule[] } | { allow: false; reason: 'no_rule' | 'method_not_allowed' | 'not_a2a' };

const ALLOW: AuthzDecision = { allow: true };
const NO_RULE: AuthzDecision = { allow: false, reason: 'no_rule' };
const METHOD: AuthzDecision = { allow: false, reason: 'method_not_allowed' };
const NOT_A2A: AuthzDecision = { allow: false, reason: 'not_a2a' };
const MAX_MEMO = 10_000;

export function compilePolicy(rules: readonly PolicyRule[], agentNames: readonly string[], field = 'policy'): Policy {
  const compiled: CompiledRule[] = rules.map((r, i) => {
    const froms = Array.isArray(r.from) ? r.from : [r.from];
    const exact = new Set<string>();
    const prefixes: string[] = [];
    for (const f of froms) {
      if (f.endsWith('/*')) prefixes.push(f.slice(0, -1));
      else exact.add(f);
    }
    let methods: Set<string> | null = null;
    if (r.methods) {
      methods = new Set();
      for (const m of r.methods) {
        const c = policyMethod(m);
        if (!c) throw new ProxyError('config', `${field}[${i}].methods: "${m}" is not an A2A method (use e.g. message/send, SendMessage or PushNotification)`);
        methods.add(c);
      }
    }
    const toAll = r.to === '*' || r.to.includes('*');
    const chain: ChainRule | undefined = r.chain ? { ...r.chain, rule: i } : undefined;
    return { exact, prefixes, toAll, to: new Set(r.to === '*' ? [] : r.to), methods, nonA2A: r.nonA2A ?? false, chain };
  });

  const memo = new Map<string, Grants>();
  return {
    grantsFor(callerId: string): Grants {
      let g = memo.get(callerId);
      if (g === undefined) {
        g = grantsOf(compiled, agentNames, callerId);
        if (memo.size >= MAX_MEMO) memo.clear(); // bounded: callers matching a /* pattern are unbounded
        memo.set(callerId, g);
      }
      return g;
    },
  };
}

function matches(rule: CompiledRule, id: string): boolean {
  if (rule.exact.has(id)) return true;
  for (const p of rule.prefixes) if (id.length > p.length && id.startsWith(p)) return true;
  return false;
}

function grantsOf(rules: readonly CompiledRule[], agentNames: readonly string[], callerId: string): Grants {
  const callees = new Map<string, Set<string> | null>();
  const nonA2A = new Set<string>();
  const conditional = new Map<string, ConditionalGrant[]>();
  let known = false;
  for (const rule of rules) {
    if (!matches(rule, callerId)) continue;
    known = true;
    for (const name of agentNames) {
      if (!rule.toAll && !rule.to.has(name)) continue;
      if (rule.chain !== undefined) {
        let list = conditional.get(name);
        if (list === undefined) conditional.set(name, (list = []));
        list.push({ methods: rule.methods, nonA2A: rule.nonA2A, chain: rule.chain });
        continue;
      }
      if (rule.nonA2A) nonA2A.add(name);
      const cur = callees.get(name);
      if (cur === null) continue; // already every method
      if (rule.methods === null) callees.set(name, null);
      else callees.set(name, new Set([...(cur ?? []), ...rule.methods]));
    }
  }
  return { known, callees, nonA2A, conditional };
}

/** Pure: may a caller with these grants call `callee` with canonical `method`? */
export function decideAuthorize(grants: Grants, callee: string, method: string): AuthzDecision {
  const allowed = grants.callees.get(callee);
  let d: AuthzDecision;
  if (allowed === undefined) d = NO_RULE;
  else if (method === UNKNOWN_METHOD) d = grants.nonA2A.has(callee) ? ALLOW : NOT_A2A;
  else d = allowed === null || allowed.has(method) ? ALLOW : METHOD;
  if (d.allow || grants.conditional.size === 0) return d;
  return conditionalDecision(grants, callee, method) ?? d;
}

/** The rules with a chain condition that would allow this call, or undefined when none would. */
function conditionalDecision(grants: Grants, callee: string, method: string): AuthzDecision | undefined {
  const list = grants.conditional.get(callee);
  if (list === undefined) return undefined;
  const chain: ChainRule[] = [];
  for (const g of list) {
    const ok = method === UNKNOWN_METHOD ? g.nonA2A : g.methods === null || g.methods.has(method);
    if (ok) chain.push(g.chain);
  }
  return chain.length === 0 ? undefined : { allow: true, chain };
}

/** Discovery obeys the same policy: a card is visible when any method to that agent is allowed. */
export function mayDiscover(grants: Grants, callee: string): boolean {
  return grants.callees.has(callee) || grants.conditional.has(callee);
}
