import { describe, expect, it } from 'vitest';
import { Registry, Counter } from 'prom-client';
import { compilePolicy, decideAuthorize } from '../../proxy/policy.js';
import { policyOutcome, shadowVerdict, ShadowDiffs } from '../../proxy/shadow.js';
import { auditLine, type AuditRecord } from '../../proxy/audit.js';
import type { Exchange } from '../../proxy/exchange.js';
import { FakeClock } from '../fakes/clock.js';

/** The shadow comparison's parts, without sockets (test/e2e/policy-shadow.test.ts runs it through the gateway). */
const TD = 'spiffe://example.org';
const names = ['a', 'b'];
const active = compilePolicy([{ from: `${TD}/agent/x`, to: ['a', 'b'] }], names);
const shadow = compilePolicy(
  [
    { from: `${TD}/agent/x`, to: ['a'] },
    { from: `${TD}/agent/x`, to: ['b'], chain: { initiator: [`${TD}/user/*`] } },
    { from: `${TD}/agent/y`, to: ['a'] },
  ],
  names,
);

function exchange(callerId: string, callee: string): Exchange {
  return { callerId, callerName: callerId.split('/').pop()!, callee, calleeLabel: callee, method: 'SendMessage', shadow: undefined } as unknown as Exchange;
}

function setup(chainHolds?: (ex: Exchange) => boolean | undefined) {
  const registry = new Registry();
  const counter = new Counter({ name: 'd', help: 'd', labelNames: ['caller', 'callee', 'verdict'] as const, registers: [registry] });
  const clock = new FakeClock(1_000);
  const logged: object[] = [];
  const diffs = new ShadowDiffs(counter, {
    now: () => clock.now(),
    chainHolds: chainHolds && ((ex) => chainHolds(ex)),
    log: { warn: (o) => void logged.push(o) },
    logEveryMs: 10_000,
    recent: 3,
  });
  const observe = (ex: Exchange) => diffs.observe(ex, decideAuthorize(active.grantsFor(ex.callerId), ex.callee, ex.method), shadow);
  return { registry, counter, clock, logged, diffs, observe };
}

describe('shadow policy (pure parts)', () => {
  it('policyOutcome: allowed, the refusal reason, or the chain conditions answer (undefined: unreadable)', () => {
    expect(policyOutcome({ allow: true }, () => false)).toBe('allowed');
    expect(policyOutcome({ allow: false, reason: 'no_rule' }, () => true)).toBe('no_rule');
    const chain = [{ rule: 1, initiator: ['x'] }];
    expect(policyOutcome({ allow: true, chain }, () => true)).toBe('allowed');
    expect(policyOutcome({ allow: true, chain }, () => false)).toBe('chain_not_allowed');
    expect(policyOutcome({ allow: true, chain }, () => undefined)).toBeUndefined();
    expect(shadowVerdict('allowed', 'no_rule')).toBe('would_deny');
    expect(shadowVerdict('method_not_allowed', 'allowed')).toBe('would_allow');
    expect(shadowVerdict('no_rule', 'method_not_allowed')).toBeUndefined();
  });

  it('counts would_deny and would_allow, marks the exchange, keeps the newest calls first', async () => {
    const s = setup(() => false);
    const deny = exchange(`${TD}/agent/x`, 'b'); // active allows; shadow only with a user's task
    s.observe(deny);
    expect(deny.shadow).toBe('would_deny');
    const same = exchange(`${TD}/agent/x`, 'a');
    s.observe(same);
    expect(same.shadow).toBeUndefined();
    const allow = exchange(`${TD}/agent/y`, 'a');
    s.observe(allow);
    expect(allow.shadow).toBe('would_allow');
    const snap = s.diffs.snapshot(10);
    expect(snap.evaluated).toBe(3);
    expect(snap.recent.map((c) => c.verdict)).toEqual(['would_allow', 'would_deny']);
    expect(snap.recent[1]).toMatchObject({ active: 'allowed', shadow: 'chain_not_allowed', callerId: `${TD}/agent/x` });
    const text = await s.registry.metrics();
    expect(text).toContain('d{caller="x",callee="b",verdict="would_deny"} 1');
    expect(text).toContain('d{caller="y",callee="a",verdict="would_allow"} 1');
  });

  it('reads the chain only when a rule has a chain condition; an unreadable chain is not compared', () => {
    let asked = 0;
    const s = setup(() => (asked++, undefined));
    s.observe(exchange(`${TD}/agent/x`, 'a'));
    expect(asked).toBe(0);
    const ex = exchange(`${TD}/agent/x`, 'b');
    s.observe(ex);
    expect(asked).toBe(1);
    expect(ex.shadow).toBeUndefined();
    expect(s.diffs.snapshot(10).evaluated).toBe(1);
    // without governance (no chainHolds), chain conditions never hold, as the gateway decides
    const none = setup();
    const e2 = exchange(`${TD}/agent/x`, 'b');
    none.observe(e2);
    expect(e2.shadow).toBe('would_deny');
  });

  it('logs one line per caller, callee and verdict per logEveryMs; reset starts the count again', () => {
    const s = setup(() => false);
    for (let i = 0; i < 5; i++) s.observe(exchange(`${TD}/agent/x`, 'b'));
    expect(s.logged).toHaveLength(1);
    expect(s.logged[0]).toMatchObject({ shadow: 'would_deny', caller: `${TD}/agent/x`, callee: 'b', policy: 'allowed', shadowPolicy: 'chain_not_allowed' });
    s.observe(exchange(`${TD}/agent/y`, 'a'));
    expect(s.logged).toHaveLength(2);
    s.clock.advance(10_000);
    s.observe(exchange(`${TD}/agent/x`, 'b'));
    expect(s.logged).toHaveLength(3);
    const snap = s.diffs.snapshot(100);
    expect(snap.counts[0]).toEqual({ caller: 'x', callee: 'b', verdict: 'would_deny', count: 6 });
    expect(snap.recent).toHaveLength(3); // recent: 3 kept
    s.diffs.reset();
    expect(s.diffs.snapshot(10)).toEqual({ since: 11_000, evaluated: 0, counts: [], recent: [] });
  });

  it('the audit line carries the shadow verdict at its end, only when there is one', () => {
    const rec: AuditRecord = {
      caller: `${TD}/agent/x`,
      callee: 'b',
      method: 'SendMessage',
      decision: 'allow',
      reason: 'ok',
      status: 200,
      bytesIn: 1,
      bytesOut: 2,
      durationUs: 3,
    };
    expect(auditLine(rec, 5)).not.toContain('shadow');
    const line = auditLine({ ...rec, shadow: 'would_deny' }, 5);
    expect(line.endsWith(',"shadow":"would_deny"}\n')).toBe(true);
    expect(JSON.parse(line)).toMatchObject({ shadow: 'would_deny', status: 200 });
  });
});
