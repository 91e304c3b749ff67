import { describe, expect, it } from 'vitest';
import { Registry, Counter } from 'prom-client';
import { Limiter, type LimitDecision } from '../../proxy/ratelimit/limiter.js';
import { compileShadowLimits, limitOutcome, limitsVerdict, ShadowLimits, type LimitsShadowVerdict } from '../../proxy/ratelimit/shadow.js';
import { limitsStage, releaseSlots } from '../../proxy/stages/limits.js';
import { ShadowDiffs } from '../../proxy/shadow.js';
import type { RateLimits } from '../../config/schema.js';
import type { Exchange } from '../../proxy/exchange.js';

/** The shadow limiter's decisions and slot keeping, without sockets (test/e2e/limits-shadow.test.ts runs it through the gateway). */
const TD = 'spiffe://example.org';
const X = `${TD}/agent/x`;

function setup(active: RateLimits, shadow: RateLimits) {
  const registry = new Registry();
  const counter = new Counter({ name: 'd', help: 'd', labelNames: ['caller', 'callee', 'verdict'] as const, registers: [registry] });
  let t = 1_000;
  const logged: { obj: object; msg: string }[] = [];
  const diffs = new ShadowDiffs<LimitsShadowVerdict>(counter, { now: () => t, kind: 'limits', log: { warn: (obj, msg) => void logged.push({ obj, msg }) } });
  const rt = { limiter: new Limiter(active), shadowLimits: new ShadowLimits(new Limiter(shadow), diffs) };
  const exchange = (callee = 'b'): Exchange =>
    ({
      rt,
      callerId: X,
      callerName: 'x',
      callee,
      calleeLabel: callee,
      method: 'SendMessage',
      startMs: t,
      holdsSlot: false,
      holdsShadowSlot: false,
    }) as unknown as Exchange;
  const count = async (verdict: LimitsShadowVerdict, callee = 'b') =>
    (await registry.getSingleMetric('d')!.get()).values.find((v) => v.labels.verdict === verdict && v.labels.callee === callee)?.value ?? 0;
  return { rt, diffs, exchange, count, logged, advance: (ms: number) => (t += ms) };
}

describe('shadow rate limits (pure parts)', () => {
  it('limitsVerdict: would_limit when only the shadow refuses, would_allow when only the enforced limits do', () => {
    const ok: LimitDecision = { ok: true };
    const edge: LimitDecision = { ok: false, limit: 'edge', retryAfterSec: 1 };
    const conc: LimitDecision = { ok: false, limit: 'concurrency', retryAfterSec: 1 };
    expect(limitsVerdict(ok, edge)).toBe('would_limit');
    expect(limitsVerdict(edge, ok)).toBe('would_allow');
    expect(limitsVerdict(ok, ok)).toBeUndefined();
    expect(limitsVerdict(edge, conc)).toBeUndefined();
    expect(limitOutcome(ok)).toBe('allowed');
    expect(limitOutcome(conc)).toBe('concurrency');
  });

  it('compileShadowLimits: none without shadow limits; the same limiter while they do not change', () => {
    const diffs = new ShadowDiffs<LimitsShadowVerdict>(new Counter({ name: 'e', help: 'e', labelNames: ['caller', 'callee', 'verdict'], registers: [] }), {
      now: () => 0,
    });
    expect(compileShadowLimits(undefined, undefined, undefined, diffs)).toBeUndefined();
    const a = compileShadowLimits({ perEdge: { rps: 1, burst: 1 } }, undefined, undefined, diffs)!;
    expect(a).toBeInstanceOf(ShadowLimits);
    expect(compileShadowLimits({ perEdge: { rps: 1, burst: 1 } }, a, { perEdge: { rps: 1, burst: 1 } }, diffs)).toBe(a);
    expect(compileShadowLimits({ perEdge: { rps: 1, burst: 2 } }, a, { perEdge: { rps: 1, burst: 1 } }, diffs)).not.toBe(a);
  });
});

describe('shadow rate limits in the limits stage', () => {
  it('a tighter shadow edge rate never refuses a call; the calls it would refuse are counted would_limit', async () => {
    const s = setup({}, { perEdge: { rps: 0.001, burst: 2 } });
    for (let i = 0; i < 5; i++) {
      const ex = s.exchange();
      expect(limitsStage(s.rt.limiter, ex)).toBeUndefined();
      releaseSlots(ex);
    }
    expect(await s.count('would_limit')).toBe(3);
    const snap = s.diffs.snapshot(10);
    expect(snap.evaluated).toBe(5);
    expect(snap.counts).toEqual([{ caller: 'x', callee: 'b', verdict: 'would_limit', count: 3 }]);
    expect(snap.recent[0]).toMatchObject({ callerId: X, active: 'allowed', shadow: 'edge' });
    // logged once for this caller, callee and verdict within the throttle window
    expect(s.logged).toHaveLength(1);
    expect(s.logged[0].msg).toContain('rate limits shadow: would_limit');
    expect(s.logged[0].obj).toMatchObject({ rateLimits: 'allowed', shadowRateLimits: 'edge' });
  });

  it('the enforced limits refuse, the looser shadow would allow: would_allow; the shadow slot it took is given back', async () => {
    const s = setup({ perEdge: { rps: 0.001, burst: 1 } }, { maxConcurrentPerCallee: 1 });
    const first = s.exchange();
    expect(limitsStage(s.rt.limiter, first)).toBeUndefined();
    releaseSlots(first);
    const refused = s.exchange();
    expect(limitsStage(s.rt.limiter, refused)?.reason).toBe('edge');
    expect(refused.holdsSlot).toBe(false);
    expect(refused.holdsShadowSlot).toBe(true);
    expect(s.rt.shadowLimits.limiter.inFlightFor('b')).toBe(1);
    releaseSlots(refused);
    expect(refused.holdsShadowSlot).toBe(false);
    expect(s.rt.shadowLimits.limiter.inFlightFor('b')).toBe(0);
    releaseSlots(refused); // once only
    expect(s.rt.shadowLimits.limiter.inFlightFor('b')).toBe(0);
    expect(await s.count('would_allow')).toBe(1);
  });

  it('a shadow concurrency cap counts overlapping calls, and frees its slots as the calls end', async () => {
    const s = setup({}, { maxConcurrentPerCallee: 1 });
    const a = s.exchange();
    const b = s.exchange();
    expect(limitsStage(s.rt.limiter, a)).toBeUndefined();
    expect(limitsStage(s.rt.limiter, b)).toBeUndefined(); // never refused by the shadow
    expect(a.holdsShadowSlot).toBe(true);
    expect(b.holdsShadowSlot).toBe(false); // the shadow refused it: no slot taken
    expect(await s.count('would_limit')).toBe(1);
    expect(s.diffs.snapshot(1).recent[0].shadow).toBe('concurrency');
    releaseSlots(b);
    expect(s.rt.shadowLimits.limiter.inFlightFor('b')).toBe(1);
    releaseSlots(a);
    expect(s.rt.shadowLimits.limiter.inFlightFor('b')).toBe(0);
    const c = s.exchange();
    expect(limitsStage(s.rt.limiter, c)).toBeUndefined();
    expect(await s.count('would_limit')).toBe(1); // the freed slot takes the next call
    releaseSlots(c);
  });

  it('reset starts the count again', () => {
    const s = setup({}, { perEdge: { rps: 0.001, burst: 1 } });
    limitsStage(s.rt.limiter, s.exchange());
    limitsStage(s.rt.limiter, s.exchange());
    expect(s.diffs.snapshot(5).evaluated).toBe(2);
    s.advance(5);
    s.diffs.reset();
    expect(s.diffs.snapshot(5)).toMatchObject({ since: 1_005, evaluated: 0, counts: [], recent: [] });
  });
});
