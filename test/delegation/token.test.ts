import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decide, verifyContext } from '../../governance/delegation/decide.js';
import { KeyRing } from '../../governance/delegation/keys.js';
import { MAX_TOKEN_LENGTH, openContext, signContext, type ContextPayload } from '../../governance/delegation/token.js';
import { ID, fakeClock } from './helpers.js';

const clock = fakeClock();
const ring = () => new KeyRing({ now: clock.now, retentionMs: 900_000 });

function payload(over: Partial<ContextPayload> = {}): ContextPayload {
  const now = clock.now();
  return {
    rootTaskId: 'AAAAAAAAAAAAAAAAAAAAAA',
    chain: [ID.alice, ID.orchestrator, ID.researcher],
    callId: 'call-1',
    depth: 2,
    rootStartedAt: now - 1000,
    issuedAt: now,
    expiresAt: now + 60_000,
    ...over,
  };
}

/** [version.kid, payload, mac]: the payload may hold dots, so split at the first two and the last one. */
function split(token: string): [string, string, string] {
  const d2 = token.indexOf('.', token.indexOf('.') + 1);
  const d3 = token.lastIndexOf('.');
  return [token.slice(0, d2), token.slice(d2 + 1, d3), token.slice(d3 + 1)];
}

/** Replace one character in the middle of the token's payload with another. */
function flipPayloadChar(token: string): string {
  const [head, p, m] = split(token);
  const i = Math.floor(p.length / 2);
  return `${head}.${p.slice(0, i) + (p[i] === 'A' ? 'B' : 'A') + p.slice(i + 1)}.${m}`;
}

describe('delegation context token', () => {
  it('round-trips: sign, then verify for the last hop', () => {
    const keys = ring();
    const token = signContext(payload(), keys.current());
    expect(token).toMatch(/^v2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_~./:-]+\.[A-Za-z0-9_-]{43}$/);
    // the payload is readable text: the chain is in it, same-trust-domain hops as paths
    expect(split(token)[1]).toContain(`~${ID.alice}~/agent/orchestrator~/agent/researcher`);
    const v = verifyContext(token, ID.researcher, clock.now(), keys);
    expect(v.ok).toBe(true);
    if (v.ok) {
      expect(v.context.chain).toEqual([ID.alice, ID.orchestrator, ID.researcher]);
      expect(v.context.rootTaskId).toBe('AAAAAAAAAAAAAAAAAAAAAA');
      expect(v.context.callId).toBe('call-1');
      expect(v.context.depth).toBe(2);
      expect(v.context.kid).toBe(keys.current().kid);
    }
  });

  it('stays compact: a 4-hop context is well under 1 KB', () => {
    const keys = ring();
    const chain = [ID.alice, ID.orchestrator, ID.researcher, ID.writer, ID.a];
    const token = signContext(payload({ chain, depth: 4 }), keys.current());
    expect(token.length).toBeLessThan(600);
  });

  it('refuses a context forged with another key under the same key id (context_bad_signature)', () => {
    const keys = ring();
    const other = ring();
    const forged = signContext(payload(), { ...other.current(), kid: keys.current().kid });
    const v = verifyContext(forged, ID.researcher, clock.now(), keys);
    expect(v).toMatchObject({ ok: false, reason: 'context_bad_signature' });
  });

  it('refuses a tampered payload (one byte flipped) and a tampered MAC (context_bad_signature)', () => {
    const keys = ring();
    const token = signContext(payload(), keys.current());
    expect(verifyContext(flipPayloadChar(token), ID.researcher, clock.now(), keys)).toMatchObject({ ok: false, reason: 'context_bad_signature' });
    const macFlipped = token.slice(0, -5) + (token.at(-5) === 'A' ? 'B' : 'A') + token.slice(-4);
    expect(verifyContext(macFlipped, ID.researcher, clock.now(), keys)).toMatchObject({ ok: false, reason: 'context_bad_signature' });
  });

  it('refuses a payload re-encoded with a different chain under the old MAC', () => {
    const keys = ring();
    const token = signContext(payload(), keys.current());
    const [head, text, m] = split(token);
    expect(text).toContain('/user/alice');
    const edited = `${head}.${text.replace('/user/alice', '/user/bob')}.${m}`;
    expect(verifyContext(edited, ID.researcher, clock.now(), keys)).toMatchObject({ ok: false, reason: 'context_bad_signature' });
    // nor with a dot moved between the kid and the payload (the split points are covered by the MAC too)
    const [vk, , mac] = split(token);
    const shifted = `${vk.slice(0, -1)}.${vk.slice(-1)}${text}.${mac}`;
    expect(verifyContext(shifted, ID.researcher, clock.now(), keys).ok).toBe(false);
  });

  it('round-trips chains across trust domains and with long IDs', () => {
    const keys = ring();
    const chain = [
      'spiffe://other.example/user/x',
      ID.orchestrator,
      'spiffe://tollgate.local2/agent/y',
      'spiffe://tollgate.local/agent/z',
      'spiffe://tollgate.local/agent/z/sub.worker_1',
    ];
    const v = openContext(signContext(payload({ chain, depth: 4 }), keys.current()), keys);
    expect(v.ok && v.context.chain).toEqual(chain);
    expect(v.ok && v.context.depth).toBe(4);
  });

  it('a child signed from the parent chainText is the same token as one encoded from scratch', () => {
    const keys = ring();
    const chains = [
      [ID.alice, ID.orchestrator],
      ['spiffe://other.example/user/x', ID.orchestrator, 'spiffe://tollgate.local2/agent/y', 'spiffe://tollgate.local/agent/y'],
    ];
    for (const chain of chains) {
      const parent = openContext(signContext(payload({ chain, depth: chain.length - 1 }), keys.current()), keys);
      expect(parent.ok).toBe(true);
      if (!parent.ok) continue;
      for (const next of [ID.writer, 'spiffe://elsewhere.example/agent/z', 'spiffe://tollgate.local']) {
        const d = decide({
          now: clock.now(),
          context: parent.context,
          caller: { id: chain[chain.length - 1], name: undefined, requireDelegationContext: false },
          callee: { name: 'n', id: next, maxRevisits: 9 },
          limits: { maxDepth: 64, tokenTtlMs: 1000, maxCalls: 9, maxFanOut: 9, maxConcurrent: 9, deadlineMs: 1e9, maxCost: undefined },
          task: {
            rootTaskId: 'r',
            initiator: chain[0],
            startedAt: 0,
            adopted: false,
            calls: 0,
            inFlight: 0,
            cost: 0,
            cancelled: false,
            expiresAt: 0,
            deadlineAt: 1e15,
            fanOut: undefined,
          },
          parentFanOut: 0,
          windows: undefined,
          newCallId: 'k',
          newRootTaskId: () => 'x',
        });
        expect(d.allow).toBe(true);
        if (!d.allow) continue;
        expect(d.child.chainText).toBeDefined();
        const fast = signContext(d.child, keys.current());
        expect(fast).toBe(signContext({ ...d.child, chainText: undefined }, keys.current()));
        const back = openContext(fast, keys);
        expect(back.ok && back.context.chain).toEqual([...chain, next]);
      }
    }
  });

  it('refuses a non-canonical encoding of the right MAC (no malleable token variants)', () => {
    const keys = ring();
    const token = signContext(payload(), keys.current());
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1)!);
    expect(last % 4).toBe(0);
    const variant = token.slice(0, -1) + alphabet[last + 1];
    // decodes to the very same 32 bytes ...
    expect(Buffer.from(split(variant)[2], 'base64url').equals(Buffer.from(split(token)[2], 'base64url'))).toBe(true);
    // ... but is not what we issued
    expect(verifyContext(variant, ID.researcher, clock.now(), keys)).toMatchObject({ ok: false, reason: 'context_bad_signature' });
  });

  it('refuses an expired context (context_expired)', () => {
    const keys = ring();
    const token = signContext(payload(), keys.current());
    expect(verifyContext(token, ID.researcher, clock.now() + 60_000, keys)).toMatchObject({ ok: false, reason: 'context_expired' });
    expect(verifyContext(token, ID.researcher, clock.now() + 59_999, keys).ok).toBe(true);
  });

  it('refuses a borrowed context: presented by someone other than the last hop (context_not_yours)', () => {
    const keys = ring();
    const token = signContext(payload(), keys.current());
    const v = verifyContext(token, ID.writer, clock.now(), keys);
    expect(v).toMatchObject({ ok: false, reason: 'context_not_yours' });
    // the orchestrator appears in the chain but is not the holder either
    expect(verifyContext(token, ID.orchestrator, clock.now(), keys)).toMatchObject({ ok: false, reason: 'context_not_yours' });
  });

  it('refuses a key id it does not have (context_unknown_key)', () => {
    const keys = ring();
    const token = signContext(payload(), ring().current());
    expect(verifyContext(token, ID.researcher, clock.now(), keys)).toMatchObject({ ok: false, reason: 'context_unknown_key' });
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not a token'],
    ['old version v1 (base64url payload)', 'v1.kid.eyJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['unknown version', 'v3.kid.r~c~1~0~10~spiffe://a.b/c.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['too few parts', 'v2.kid.payload'],
    ['no payload', 'v2.kid..AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['empty kid', 'v2..payload.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['short MAC', 'v2.kid.payload.AAAA'],
    ['MAC with a dot in it', 'v2.kid.payload.AAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['oversized', `v2.kid.${'A'.repeat(MAX_TOKEN_LENGTH)}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`],
  ])('refuses a malformed header: %s (context_malformed)', (_name, token) => {
    expect(verifyContext(token, ID.researcher, clock.now(), ring())).toMatchObject({ ok: false, reason: 'context_malformed' });
  });

  it('refuses a correctly MACed payload that is not a valid context (context_malformed)', () => {
    const keys = ring();
    const k = keys.current();
    const mk = (body: string) => {
      const signed = `v2.${k.kid}.${body}`;
      return `${signed}.${createHmac('sha256', k.secret).update(signed).digest('base64url')}`;
    };
    const hops = `${ID.alice}~/agent/orchestrator`;
    expect(openContext(mk('not a context'), keys)).toMatchObject({ ok: false, reason: 'context_malformed' });
    expect(openContext(mk(`r~c~1~0~10~${ID.alice}`), keys)).toMatchObject({ ok: false, reason: 'context_malformed', detail: 'bad field count' });
    expect(openContext(mk(`r~c~1~0~0~${hops}`), keys)).toMatchObject({ ok: false, reason: 'context_malformed', detail: 'bad timestamps' });
    expect(openContext(mk(`r~c~zz~!~10~${hops}`), keys)).toMatchObject({ ok: false, reason: 'context_malformed', detail: 'bad timestamps' });
    expect(openContext(mk(`r~c~1~0~10~/user/alice~/agent/orchestrator`), keys)).toMatchObject({ ok: false, reason: 'context_malformed' });
    expect(openContext(mk(`~c~1~0~10~${hops}`), keys)).toMatchObject({ ok: false, reason: 'context_malformed' });
    // and the same construction with good content verifies, so the helper is right
    expect(openContext(mk(`r~c~1~0~10~${hops}`), keys)).toMatchObject({
      ok: true,
      context: { chain: [ID.alice, ID.orchestrator], rootStartedAt: 1, expiresAt: 11 },
    });
  });
});
