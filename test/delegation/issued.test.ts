import { describe, expect, it, vi } from 'vitest';
import { verifyContext } from '../../governance/delegation/decide.js';
import { IssuedContexts } from '../../governance/delegation/issued.js';
import { KeyRing } from '../../governance/delegation/keys.js';
import { issueContext, openContext, type ContextPayload } from '../../governance/delegation/token.js';
import { ID, call, fakeClock, makeConfig, makeStage } from './helpers.js';

function payload(now: number, callId = 'call-1'): ContextPayload {
  return {
    rootTaskId: 'AAAAAAAAAAAAAAAAAAAAAA',
    chain: [ID.alice, ID.orchestrator, ID.researcher],
    callId,
    depth: 2,
    rootStartedAt: now - 1000,
    issuedAt: now,
    expiresAt: now + 60_000,
  };
}

describe('contexts the gateway issued (IssuedContexts)', () => {
  it('issueContext returns exactly what openContext decodes from the token', () => {
    const clock = fakeClock();
    const ring = new KeyRing({ now: clock.now, retentionMs: 900_000 });
    const { token, context } = issueContext(payload(clock.now()), ring.current());
    const opened = openContext(token, ring);
    expect(opened.ok && opened.context).toEqual(context);
  });

  it('recognises an issued token without a MAC, and still refuses it expired, borrowed or under a pruned key', () => {
    const clock = fakeClock();
    const ring = new KeyRing({ now: clock.now, retentionMs: 1000 });
    const issued = new IssuedContexts(16);
    const key = ring.current();
    const { token, mac, context } = issueContext(payload(clock.now()), key);
    issued.remember(token, mac, context);
    const macs = vi.spyOn(key.hmac, 'macBase64url');

    const v = verifyContext(token, ID.researcher, clock.now(), ring, issued);
    expect(v).toEqual({ ok: true, context });
    expect(macs).not.toHaveBeenCalled();

    expect(verifyContext(token, ID.writer, clock.now(), ring, issued)).toMatchObject({ ok: false, reason: 'context_not_yours' });
    expect(verifyContext(token, ID.researcher, clock.now() + 60_000, ring, issued)).toMatchObject({ ok: false, reason: 'context_expired' });
    expect(macs).not.toHaveBeenCalled();

    // a one-character change is not the issued token: full path, MAC refused
    const altered = token.replace('~call-1~', '~call-2~');
    expect(verifyContext(altered, ID.researcher, clock.now(), ring, issued)).toMatchObject({ ok: false, reason: 'context_bad_signature' });
    expect(macs).toHaveBeenCalledTimes(1);

    // the key is rotated out and pruned: a remembered token signed with it no longer counts
    ring.rotate();
    clock.advance(2000);
    ring.prune();
    expect(ring.get(key.kid)).toBeUndefined();
    expect(verifyContext(token, ID.researcher, clock.now(), ring, issued)).toMatchObject({ ok: false, reason: 'context_unknown_key' });
  });

  it('is bounded: a token displaced from its slot takes the full path and still verifies', () => {
    const clock = fakeClock();
    const ring = new KeyRing({ now: clock.now, retentionMs: 900_000 });
    const issued = new IssuedContexts(2);
    const t = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((id) => issueContext(payload(clock.now(), id), ring.current()));
    for (const x of t) issued.remember(x.token, x.mac, x.context);
    expect(issued.size).toBeLessThanOrEqual(2);
    // the last token is always in its slot; with 6 tokens in 2 slots at least 4 were displaced
    expect(issued.get(t[5].token)).toBe(t[5].context);
    const displaced = t.filter((x) => issued.get(x.token) === undefined);
    expect(displaced.length).toBeGreaterThanOrEqual(4);
    const macs = vi.spyOn(ring.current().hmac, 'macBase64url');
    expect(verifyContext(displaced[0].token, ID.researcher, clock.now(), ring, issued)).toMatchObject({
      ok: true,
      context: { callId: displaced[0].context.callId },
    });
    expect(macs).toHaveBeenCalledTimes(1);
    expect(() => new IssuedContexts(0)).toThrow(RangeError);
    expect(() => new IssuedContexts(3)).toThrow(RangeError);
  });

  it('through the stage: a hop inside a task costs one MAC (the re-sign); a context this stage did not issue is MAC-checked', () => {
    const { stage, keyring } = makeStage(makeConfig());
    const root = call(stage, 'alice', 'orchestrator');
    expect(root.refusal).toBeUndefined();
    const macs = vi.spyOn(keyring.current().hmac, 'macBase64url');
    const hop = call(stage, 'orchestrator', 'researcher', root.token);
    expect(hop.refusal).toBeUndefined();
    expect(macs).toHaveBeenCalledTimes(1);

    // the same keys, but this stage never issued the token (another replica of a fleet): its MAC is checked
    // (it passes), the task is adopted, and the next context is signed: two MACs
    const { stage: other } = makeStage(makeConfig(), undefined, { keyring });
    macs.mockClear();
    const elsewhere = call(other, 'researcher', 'writer', hop.token);
    expect(elsewhere.refusal).toBeUndefined();
    expect(macs).toHaveBeenCalledTimes(2);
  });
});
