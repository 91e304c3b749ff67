import type { ChainRule } from '../../config/schema.js';
import { describePath } from './describe.js';
import { refuse, type Refusal } from './refusals.js';

/**
 * Chain-aware policy: a rule with a `chain` condition allows a call only when the signed delegation chain
 * behind it satisfies the condition. The proxy's authorize stage passes the rules that would allow the call
 * (only when no unconditional rule does); this checks them once the context is verified. Any one rule
 * satisfied allows the call. Pure.
 *
 *   chain     the verified chain from the initiator to the caller ([caller] for a call that starts a task)
 *   depth     hops from the initiator to the callee of this call (chain.length)
 *   initiator chain[0] must match one of the patterns
 *   via       some hop before the caller (the initiator included) must match
 *   notVia    no hop before the caller may match
 */

/** An exact SPIFFE ID, or a `<prefix>/*` pattern matching any ID strictly under that path. */
export function matchesPattern(id: string, pattern: string): boolean {
  if (!pattern.endsWith('/*')) return id === pattern;
  const prefix = pattern.slice(0, -1);
  return id.length > prefix.length && id.startsWith(prefix);
}

function anyMatch(id: string, patterns: readonly string[]): boolean {
  for (const p of patterns) if (matchesPattern(id, p)) return true;
  return false;
}

/** Why one rule does not hold for this chain, or undefined when it does. */
export function chainFailure(rule: ChainRule, chain: readonly string[]): string | undefined {
  const depth = chain.length;
  const before = chain.length - 1; // hops before the caller: chain[0, before)
  if (rule.initiator !== undefined && !anyMatch(chain[0], rule.initiator)) {
    return `needs a task started by ${rule.initiator.join(' or ')}, and this one was started by ${chain[0]}`;
  }
  if (rule.via !== undefined) {
    let found = false;
    for (let i = 0; i < before && !found; i++) found = anyMatch(chain[i], rule.via);
    if (!found) return `needs ${rule.via.join(' or ')} on the chain before the caller (chain: ${describePath(chain)})`;
  }
  if (rule.notVia !== undefined) {
    for (let i = 0; i < before; i++) {
      if (anyMatch(chain[i], rule.notVia)) return `forbids ${chain[i]} on the chain before the caller (chain: ${describePath(chain)})`;
    }
  }
  if (rule.maxDepth !== undefined && depth > rule.maxDepth) return `allows at most ${rule.maxDepth} hops from the initiator, and this call is hop ${depth}`;
  return undefined;
}

/** undefined when one of `rules` holds for `chain` (initiator .. caller); else the refusal naming each rule's failure. */
export function checkChain(rules: readonly ChainRule[], chain: readonly string[], callee: string): Refusal | undefined {
  const failures: { rule: number; failed: string }[] = [];
  for (const r of rules) {
    const f = chainFailure(r, chain);
    if (f === undefined) return undefined;
    failures.push({ rule: r.rule, failed: f });
  }
  const caller = chain[chain.length - 1];
  const why = failures.map((f) => `policy[${f.rule}] ${f.failed}`).join('; ');
  return refuse('chain_not_allowed', `${caller} may call agent "${callee}" only under conditions on the delegation chain, and none holds: ${why}`, {
    caller,
    callee,
    chain: [...chain],
    rules: failures,
  });
}
