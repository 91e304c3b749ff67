import type { ChainRule, PolicyRule } from '../config/schema.js';
import type { Counter } from 'prom-client';
import { compilePolicy, decideAuthorize, type AuthzDecision, type Policy } from './policy.js';
import type { Exchange } from './exchange.js';

/**
 * Shadow policy: rules evaluated beside the enforced policy, never enforced. A call the shadow rules would
 * decide differently is counted (tollgate_policy_shadow_diff_total{caller,callee,verdict}), kept in a short
 * list of recent differing calls (`tollgate ctl policy diff`), marked on its audit line ("shadow") and
 * logged at most once per caller, callee and verdict every `logEveryMs`.
 *
 *   would_deny   the policy allows the call, the shadow rules would refuse it
 *   would_allow  the policy refuses it, the shadow rules would allow it
 *
 * Only the policy decision is compared: the rules, with their chain conditions read from the call's verified
 * delegation chain. Limits, budgets and loop checks are the same for both and are not. The shadow rules are
 * compiled with the runtime (runtime.ts); without them the authorize stage does one property check more.
 */
export type ShadowVerdict = 'would_deny' | 'would_allow';

export interface ShadowDiffCall<V extends string = ShadowVerdict> {
  time: number;
  callerId: string;
  /** the bounded caller label (agent name, 'external' or 'unknown') */
  caller: string;
  callee: string;
  method: string;
  verdict: V;
  /** 'allowed' or the refusal reason, under the policy and under the shadow rules */
  active: string;
  shadow: string;
}

export interface ShadowDiffCount<V extends string = ShadowVerdict> {
  caller: string;
  callee: string;
  verdict: V;
  count: number;
}

export interface ShadowSnapshot<V extends string = ShadowVerdict> {
  /** when counting started (the policy or its shadow last changed) */
  since: number;
  /** calls both rule sets decided since then */
  evaluated: number;
  counts: ShadowDiffCount<V>[];
  /** newest first */
  recent: ShadowDiffCall<V>[];
}

export interface ShadowOptions {
  /**
   * Does one of `rules` (chain conditions) hold for the call's verified delegation chain? undefined: the
   * chain cannot be read (a context that does not verify: the call is refused for that anyway), the call is
   * not compared. Absent (no governance reads chains): chain conditions never hold, as the gateway decides.
   */
  chainHolds?: (ex: Exchange, rules: readonly ChainRule[]) => boolean | undefined;
  log?: { warn(obj: object, msg: string): void };
  /** one log line per caller, callee and verdict at most this often (ms; default 10 s) */
  logEveryMs?: number;
  /** recent differing calls kept (default 200) */
  recent?: number;
  /** what is shadowed, for the log line (default 'policy'; 'limits': proxy/ratelimit/shadow.ts) */
  kind?: 'policy' | 'limits';
  now: () => number;
}

const DEFAULT_LOG_EVERY_MS = 10_000;
const DEFAULT_RECENT = 200;

/** Pure: the policy's answer for one call, 'allowed' or the refusal reason; undefined when the chain cannot be read. */
export function policyOutcome(d: AuthzDecision, chainHolds: (rules: readonly ChainRule[]) => boolean | undefined): string | undefined {
  if (!d.allow) return d.reason;
  if (d.chain === undefined) return 'allowed';
  const holds = chainHolds(d.chain);
  if (holds === undefined) return undefined;
  return holds ? 'allowed' : 'chain_not_allowed';
}

/** Pure: how the shadow answer differs from the enforced one, or undefined when they agree. */
export function shadowVerdict(active: string, shadow: string): ShadowVerdict | undefined {
  const a = active === 'allowed';
  const s = shadow === 'allowed';
  if (a === s) return undefined;
  return a ? 'would_deny' : 'would_allow';
}

/**
 * The counts and recent differing calls of one process; reset when the compared rules change. Shared by the
 * shadow policy (observe, here) and the shadow rate limits (proxy/ratelimit/shadow.ts: observed + record).
 */
export class ShadowDiffs<V extends string = ShadowVerdict> {
  private counts = new Map<string, ShadowDiffCount<V>>();
  private recentCalls: ShadowDiffCall<V>[] = [];
  private since: number;
  private evaluated = 0;
  private readonly lastLogged = new Map<string, number>();
  private readonly logEveryMs: number;
  private readonly keep: number;

  constructor(
    private readonly counter: Counter<'caller' | 'callee' | 'verdict'>,
    private readonly opts: ShadowOptions,
  ) {
    this.since = opts.now();
    this.logEveryMs = opts.logEveryMs ?? DEFAULT_LOG_EVERY_MS;
    this.keep = opts.recent ?? DEFAULT_RECENT;
  }

  /** the enforced rules or the shadow rules changed: what was counted no longer describes them */
  reset(): void {
    this.counts = new Map();
    this.recentCalls = [];
    this.since = this.opts.now();
    this.evaluated = 0;
  }

  /** one call was decided by both rule sets */
  observed(): void {
    this.evaluated++;
  }

  /** Compare the enforced decision `active` for this call with the shadow rules' (the authorize stage). */
  observe(this: ShadowDiffs, ex: Exchange, active: AuthzDecision, shadowPolicy: Policy): void {
    const shadow = decideAuthorize(shadowPolicy.grantsFor(ex.callerId), ex.callee, ex.method);
    // most calls: both allow without conditions, or both refuse for the same reason
    if (active.allow === shadow.allow && (!active.allow || (active.chain === undefined && shadow.allow && shadow.chain === undefined))) {
      this.evaluated++;
      return;
    }
    const chainHolds = this.opts.chainHolds;
    const holds = (rules: readonly ChainRule[]) => (chainHolds === undefined ? false : chainHolds(ex, rules));
    const a = policyOutcome(active, holds);
    const s = policyOutcome(shadow, holds);
    if (a === undefined || s === undefined) return;
    this.evaluated++;
    const verdict = shadowVerdict(a, s);
    if (verdict === undefined) return;
    ex.shadow = verdict;
    this.record({
      time: this.opts.now(),
      callerId: ex.callerId,
      caller: ex.callerName,
      callee: ex.calleeLabel,
      method: ex.method,
      verdict,
      active: a,
      shadow: s,
    });
  }

  /** count, keep and (throttled) log one call the two rule sets decided differently */
  record(c: ShadowDiffCall<V>): void {
    this.counter.labels(c.caller, c.callee, c.verdict).inc();
    const key = `${c.caller}\u0000${c.callee}\u0000${c.verdict}`;
    const n = this.counts.get(key);
    if (n === undefined) this.counts.set(key, { caller: c.caller, callee: c.callee, verdict: c.verdict, count: 1 });
    else n.count++;
    this.recentCalls.push(c);
    if (this.recentCalls.length > this.keep * 2) this.recentCalls = this.recentCalls.slice(-this.keep);
    const log = this.opts.log;
    if (log === undefined) return;
    const last = this.lastLogged.get(key);
    if (last !== undefined && c.time - last < this.logEveryMs) return;
    this.lastLogged.set(key, c.time); // keys are bounded labels
    const every = `at most one line per ${Math.round(this.logEveryMs / 1000)}s for this caller, callee and verdict`;
    if (this.opts.kind === 'limits') {
      log.warn(
        { shadow: c.verdict, caller: c.callerId, callee: c.callee, method: c.method, rateLimits: c.active, shadowRateLimits: c.shadow },
        `rate limits shadow: ${c.verdict} ${c.callerId} -> ${c.callee} ${c.method} (rateLimits: ${c.active}, shadow: ${c.shadow}; ${every})`,
      );
      return;
    }
    log.warn(
      { shadow: c.verdict, caller: c.callerId, callee: c.callee, method: c.method, policy: c.active, shadowPolicy: c.shadow },
      `policy shadow: ${c.verdict} ${c.callerId} -> ${c.callee} ${c.method} (policy: ${c.active}, shadow: ${c.shadow}; ${every})`,
    );
  }

  snapshot(limit: number): ShadowSnapshot<V> {
    const counts = [...this.counts.values()].map((c) => ({ ...c })).sort((x, y) => y.count - x.count || x.caller.localeCompare(y.caller));
    const recent = this.recentCalls.slice(-Math.min(limit, this.keep)).reverse();
    return { since: this.since, evaluated: this.evaluated, counts, recent };
  }
}

/** The shadow rules as the runtime holds them: compiled at config load, with the process's counts. */
export interface ShadowPolicy {
  readonly policy: Policy;
  readonly diffs: ShadowDiffs;
}

/** Compile `rules` (config shadowPolicy); throws ProxyError naming shadowPolicy[i] on a bad method name. */
export function compileShadow(
  rules: readonly PolicyRule[] | undefined,
  agentNames: readonly string[],
  diffs: ShadowDiffs | undefined,
): ShadowPolicy | undefined {
  if (rules === undefined || diffs === undefined) return undefined;
  return { policy: compilePolicy(rules, agentNames, 'shadowPolicy'), diffs };
}
