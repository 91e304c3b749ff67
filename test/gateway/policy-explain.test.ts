import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { explainCall, renderExplanation } from '../../gateway/policy-explain.js';
import { compilePolicy, decideAuthorize } from '../../proxy/policy.js';
import { policyMethod, PUSH_NOTIFICATION_METHOD, UNKNOWN_METHOD } from '../../proxy/a2a/methods.js';
import { decide, decidePush, type DelegationContext, type TaskState } from '../../governance/delegation/index.js';
import { checkChain } from '../../governance/delegation/chain-policy.js';

/**
 * explainCall answers what the gateway would do. The reference here is the gateway's own decision path,
 * called as the proxy and the delegation stage call it: compilePolicy + decideAuthorize (the authorize
 * stage), then decide() (loop, depth, context required, the chain conditions) or decidePush() for a push,
 * with a verified context carrying the chain and a fresh task (no budget spent). Many generated
 * (caller, callee, method, chain) combinations; the verdict and the reason must agree on every one.
 */
const TD = 'explain.test';
const id = (p: string) => `spiffe://${TD}/${p}`;
const AGENTS = ['orchestrator', 'researcher', 'writer', 'archive', 'payments'] as const;

function config(): Config {
  const agents = Object.fromEntries(
    AGENTS.map((n, i) => [
      n,
      {
        url: `https://127.0.0.1:${9001 + i}`,
        id: id(`agent/${n}`),
        maxRevisits: n === 'researcher' ? 1 : 0,
        requireDelegationContext: n === 'writer',
      },
    ]),
  );
  return parseConfig({
    trustDomain: TD,
    agents,
    delegation: { maxDepth: 4 },
    policy: [
      { from: id('user/*'), to: ['orchestrator'] },
      { from: id('agent/orchestrator'), to: ['researcher', 'writer'], methods: ['message/send', 'GetTask', 'CancelTask'] },
      { from: id('agent/researcher'), to: ['writer'], chain: { via: id('agent/orchestrator'), initiator: id('user/*') } },
      { from: id('agent/researcher'), to: ['archive'], methods: ['SendMessage'], nonA2A: true },
      { from: [id('agent/writer'), id('agent/researcher')], to: ['orchestrator'], methods: ['PushNotification'] },
      { from: id('agent/*'), to: ['payments'], chain: { initiator: id('user/alice'), maxDepth: 3 } },
      { from: id('agent/writer'), to: ['researcher'], chain: { notVia: id('agent/archive') } },
      { from: id('agent/researcher'), to: '*', methods: ['GetTask'], chain: { maxDepth: 2 } },
      { from: id('agent/orchestrator'), to: ['orchestrator', 'researcher'] },
    ],
  });
}

const NOW = 10_000_000;

function context(chain: string[]): DelegationContext {
  return {
    rootTaskId: 'root',
    chain,
    callId: 'parent',
    depth: chain.length - 1,
    rootStartedAt: NOW - 1000,
    issuedAt: NOW - 10,
    expiresAt: NOW + 60_000,
    kid: 'k',
  };
}

function freshTask(initiator: string): TaskState {
  return {
    rootTaskId: 'root',
    initiator,
    startedAt: NOW - 1000,
    adopted: false,
    calls: 0,
    inFlight: 0,
    cost: 0,
    cancelled: false,
    expiresAt: NOW + 60_000,
    deadlineAt: NOW + 600_000,
    fanOut: undefined,
    prev: undefined,
    next: undefined,
  } as unknown as TaskState;
}

/** What the gateway decides: { allowed, reason } from the authorize stage and the delegation stage. */
function gateway(cfg: Config, from: string, to: string, method: string | undefined, before: string[]): { allowed: boolean; reason: string } {
  const agent = cfg.agents[to];
  if (agent === undefined) return { allowed: false, reason: 'unknown_agent' }; // the route stage: 404
  const m = method === undefined ? 'SendMessage' : (policyMethod(method) ?? UNKNOWN_METHOD);
  const d = decideAuthorize(compilePolicy(cfg.policy, Object.keys(cfg.agents)).grantsFor(from), to, m);
  if (!d.allow) return { allowed: false, reason: d.reason };
  const chain = before.length > 0 && before[before.length - 1] === from ? before : [...before, from];
  const ctx = chain.length > 1 ? context(chain) : undefined;
  const callerName = Object.entries(cfg.agents).find(([, a]) => a.id === from)?.[0];
  const caller = { id: from, name: callerName, requireDelegationContext: callerName ? cfg.agents[callerName].requireDelegationContext : false };
  const dl = cfg.delegation;
  const limits = {
    maxDepth: dl.maxDepth,
    tokenTtlMs: dl.tokenTtl,
    maxCalls: dl.task.maxCalls,
    maxFanOut: dl.task.maxFanOut,
    maxConcurrent: dl.task.maxConcurrent,
    deadlineMs: dl.task.deadline,
    maxCost: dl.task.maxCost,
  };
  const task = ctx && freshTask(chain[0]);
  if (m === PUSH_NOTIFICATION_METHOD) {
    // the delegation stage's beforePush: the chain rules, then decidePush
    if (d.chain !== undefined) {
      const r = checkChain(d.chain, ctx ? ctx.chain : [from], to);
      if (r !== undefined) return { allowed: false, reason: r.reason };
    }
    const p = decidePush({ now: NOW, context: ctx, caller, limits, task, windows: undefined });
    return p.allow ? { allowed: true, reason: 'allowed' } : { allowed: false, reason: p.refusal.reason };
  }
  const r = decide({
    now: NOW,
    context: ctx,
    caller,
    callee: { name: to, id: agent.id, maxRevisits: agent.maxRevisits },
    limits,
    task,
    parentFanOut: 0,
    windows: undefined,
    method: m,
    chainRules: d.chain,
    newCallId: 'c',
    newRootTaskId: () => 'r',
  });
  return r.allow ? { allowed: true, reason: 'allowed' } : { allowed: false, reason: r.refusal.reason };
}

/** A small deterministic PRNG (mulberry32): the same combinations on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IDS = [...AGENTS.map((n) => id(`agent/${n}`)), id('user/alice'), id('user/bob'), id('service/cron')];
const CALLEES = [...AGENTS, 'nobody'];
const METHODS = [undefined, 'SendMessage', 'message/send', 'message/stream', 'GetTask', 'tasks/get', 'CancelTask', 'PushNotification', 'frobnicate'];

describe('explainCall agrees with the gateway (differential)', () => {
  it('on every generated (caller, callee, method, chain) combination: the same verdict and reason', () => {
    const cfg = config();
    const pick = <T>(r: () => number, xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
    const r = rng(15);
    const cases: [string, string, string | undefined, string[]][] = [];
    // every caller x callee x method without a chain, then random chains of 1..5 hops before the caller
    for (const from of IDS) for (const to of CALLEES) for (const m of METHODS) cases.push([from, to, m, []]);
    for (let i = 0; i < 6000; i++) {
      const before = Array.from({ length: 1 + Math.floor(r() * 5) }, () => pick(r, IDS));
      cases.push([pick(r, IDS), pick(r, CALLEES), pick(r, METHODS), before]);
    }
    const seen = new Map<string, number>();
    const mismatches: string[] = [];
    for (const [from, to, method, before] of cases) {
      const want = gateway(cfg, from, to, method, before);
      const got = explainCall(cfg, { from, to, method, chain: before });
      seen.set(want.reason, (seen.get(want.reason) ?? 0) + 1);
      if (got.allowed !== want.allowed || got.reason !== want.reason) {
        mismatches.push(`${from} -> ${to} ${method ?? '-'} chain [${before.join(', ')}]: gateway ${want.reason}, explain ${got.reason}`);
      }
      // the verdict's text agrees with the verdict
      expect(renderExplanation(got).startsWith(got.allowed ? 'ALLOW' : 'DENY')).toBe(true);
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    // the generated cases reach every kind of answer (else the comparison would prove little)
    for (const reason of ['allowed', 'unknown_agent', 'no_rule', 'method_not_allowed', 'not_a2a', 'chain_not_allowed', 'loop', 'depth', 'context_required']) {
      expect(seen.get(reason) ?? 0, reason).toBeGreaterThan(5);
    }
  });

  it('explains a push (PushNotification) by the rule that lists it, without loop or depth checks', () => {
    const cfg = config();
    const e = explainCall(cfg, {
      from: id('agent/researcher'),
      to: 'orchestrator',
      method: 'PushNotification',
      chain: [id('user/alice'), id('agent/orchestrator')],
    });
    expect(e).toMatchObject({ allowed: true, reason: 'allowed', decidedBy: 'policy[4]', method: 'PushNotification' });
    const denied = explainCall(cfg, { from: id('agent/archive'), to: 'orchestrator', method: 'PushNotification' });
    expect(denied).toMatchObject({ allowed: false, reason: 'no_rule' });
  });

  it('names the rule and the part of the chain that failed', () => {
    const cfg = config();
    const e = explainCall(cfg, { from: id('agent/researcher'), to: 'writer', chain: [id('user/alice')] });
    expect(e).toMatchObject({ allowed: false, reason: 'chain_not_allowed', decidedBy: 'policy[2]' });
    expect(e.message).toContain(`policy[2] needs ${id('agent/orchestrator')} on the chain before the caller`);
    const ok = explainCall(cfg, { from: id('agent/researcher'), to: 'writer', chain: [id('user/alice'), id('agent/orchestrator')] });
    expect(ok).toMatchObject({ allowed: true, decidedBy: 'policy[2]' });
    expect(ok.limits.join('\n')).toContain('delegation.task maxCalls');
    expect(renderExplanation(ok)).toContain(`chain: ${id('user/alice')} -> ${id('agent/orchestrator')} -> ${id('agent/researcher')}`);
  });
});
