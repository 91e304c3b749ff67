import { policyMethod } from './a2a/methods.js';
import { ProxyError } from './errors.js';
import type { PolicyRule } from '../config/schema.js';

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
  methods: ReadonlySet<string> | null; // null = every method
}

/** What one caller may call: callee name -> allowed canonical methods (null = all). */
export interface Grants {
  /** the caller matched at least one rule's `from` (used for the 'external' metric label) */
  readonly known: boolean;
  readonly callees: ReadonlyMap<string, ReadonlySet<string> | null>;
}

export interface Policy {
  grantsFor(callerId: string): Grants;
}

export type AuthzDecision = { allow: true } | { allow: false; reason: 'no_rule' | 'method_not_allowed' };

const ALLOW: AuthzDecision = { allow: true };
const NO_RULE: AuthzDecision = { allow: false, reason: 'no_rule' };
const METHOD: AuthzDecision = { allow: false, reason: 'method_not_allowed' };
const MAX_MEMO = 10_000;

export function compilePolicy(rules: readonly PolicyRule[], agentNames: readonly string[]): Policy {
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
        if (!c) throw new ProxyError('config', `policy[${i}].methods: "${m}" is not an A2A method (use e.g. message/send, SendMessage or PushNotification)`);
        methods.add(c);
      }
    }
    const toAll = r.to === '*' || r.to.includes('*');
    return { exact, prefixes, toAll, to: new Set(r.to === '*' ? [] : r.to), methods };
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
  let known = false;
  for (const rule of rules) {
    if (!matches(rule, callerId)) continue;
    known = true;
    for (const name of agentNames) {
      if (!rule.toAll && !rule.to.has(name)) continue;
      const cur = callees.get(name);
      if (cur === null) continue; // already every method
      if (rule.methods === null) callees.set(name, null);
      else callees.set(name, new Set([...(cur ?? []), ...rule.methods]));
    }
  }
  return { known, callees };
}

/** Pure: may a caller with these grants call `callee` with canonical `method`? */
export function decideAuthorize(grants: Grants, callee: string, method: string): AuthzDecision {
  const allowed = grants.callees.get(callee);
  if (allowed === undefined) return NO_RULE;
  if (allowed === null || allowed.has(method)) return ALLOW;
  return METHOD;
}

/** Discovery obeys the same policy: a card is visible when any method to that agent is allowed. */
export function mayDiscover(grants: Grants, callee: string): boolean {
  return grants.callees.has(callee);
}
