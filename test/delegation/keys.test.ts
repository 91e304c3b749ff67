import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyContext } from '../../governance/delegation/decide.js';
import { DelegationError } from '../../governance/delegation/errors.js';
import { DELEGATION_KEYS_FILE, KeyRing, openKeyRing } from '../../governance/delegation/keys.js';
import { signContext, type ContextPayload } from '../../governance/delegation/token.js';
import { ID, fakeClock } from './helpers.js';

const TTL = 15 * 60_000;

function payload(now: number): ContextPayload {
  return {
    rootTaskId: 'AAAAAAAAAAAAAAAAAAAAAA',
    chain: [ID.alice, ID.orchestrator],
    callId: 'c1',
    depth: 1,
    rootStartedAt: now,
    issuedAt: now,
    expiresAt: now + TTL,
  };
}

describe('key ring rotation', () => {
  it('old tokens keep verifying after rotation until they expire, then the old key is pruned', () => {
    const clock = fakeClock();
    const ring = new KeyRing({ now: clock.now, retentionMs: TTL });
    const oldKid = ring.current().kid;
    const oldToken = signContext(payload(clock.now()), ring.current());
    clock.advance(60_000);
    const next = ring.rotate();
    expect(next.kid).not.toBe(oldKid);
    expect(ring.current().kid).toBe(next.kid);
    // old token still verifies; new tokens are signed with the new key
    expect(verifyContext(oldToken, ID.orchestrator, clock.now(), ring).ok).toBe(true);
    const newToken = signContext(payload(clock.now()), ring.current());
    expect(newToken.split('.')[1]).toBe(next.kid);
    expect(verifyContext(newToken, ID.orchestrator, clock.now(), ring).ok).toBe(true);
    // retention: the old key is kept for a token TTL after retirement, then dropped
    clock.advance(TTL - 1);
    expect(ring.prune()).toBe(0);
    clock.advance(1);
    expect(ring.prune()).toBe(1);
    expect(ring.get(oldKid)).toBeUndefined();
    expect(verifyContext(oldToken, ID.orchestrator, clock.now() - 1, ring)).toMatchObject({ ok: false, reason: 'context_unknown_key' });
  });

  it('rotateIfOlderThan rotates only an old key', () => {
    const clock = fakeClock();
    const ring = new KeyRing({ now: clock.now, retentionMs: TTL });
    expect(ring.rotateIfOlderThan(3_600_000)).toBe(false);
    clock.advance(3_600_000);
    expect(ring.rotateIfOlderThan(3_600_000)).toBe(true);
    expect(ring.list().filter((k) => k.current)).toHaveLength(1);
  });
});

describe('key file store', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-keys-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates delegation-keys.json with mode 0600 and reloads it: tokens from before a restart verify', () => {
    const clock = fakeClock();
    const dataDir = path.join(dir, 'data');
    const ring = openKeyRing({ dataDir, now: clock.now, retentionMs: TTL });
    const file = path.join(dataDir, DELEGATION_KEYS_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const before = signContext(payload(clock.now()), ring.current());

    // "restart": a new ring from the same directory
    const reloaded = openKeyRing({ dataDir, now: clock.now, retentionMs: TTL });
    expect(reloaded.current().kid).toBe(ring.current().kid);
    expect(verifyContext(before, ID.orchestrator, clock.now(), reloaded).ok).toBe(true);

    // rotation is persisted before rotate() returns; both keys survive a restart
    clock.advance(1000);
    ring.rotate();
    const after = signContext(payload(clock.now()), ring.current());
    const again = openKeyRing({ dataDir, now: clock.now, retentionMs: TTL });
    expect(again.current().kid).toBe(ring.current().kid);
    expect(verifyContext(before, ID.orchestrator, clock.now(), again).ok).toBe(true);
    expect(verifyContext(after, ID.orchestrator, clock.now(), again).ok).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // no temp files left behind
    expect(fs.readdirSync(dataDir)).toEqual([DELEGATION_KEYS_FILE]);

    // a restart after the retention period prunes the retired key (and persists that)
    clock.advance(TTL);
    const late = openKeyRing({ dataDir, now: clock.now, retentionMs: TTL });
    expect(late.list()).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).keys).toHaveLength(1);
  });

  it('tightens a key file readable by others to 0600 and warns', () => {
    const clock = fakeClock();
    openKeyRing({ dataDir: dir, now: clock.now, retentionMs: TTL });
    const file = path.join(dir, DELEGATION_KEYS_FILE);
    fs.chmodSync(file, 0o644);
    const warnings: string[] = [];
    openKeyRing({ dataDir: dir, now: clock.now, retentionMs: TTL, log: { warn: (_o, m) => warnings.push(m) } });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(warnings.join()).toMatch(/0600/);
  });

  it.each([
    ['not JSON', '{oops'],
    ['wrong version', JSON.stringify({ version: 2, keys: [] })],
    ['no keys', JSON.stringify({ version: 1, keys: [] })],
    ['short secret', JSON.stringify({ version: 1, keys: [{ kid: 'k1', secret: 'AAAA', createdAt: 1 }] })],
    [
      'two current keys',
      JSON.stringify({
        version: 1,
        keys: [
          { kid: 'k1', secret: Buffer.alloc(32, 1).toString('base64url'), createdAt: 1 },
          { kid: 'k2', secret: Buffer.alloc(32, 2).toString('base64url'), createdAt: 2 },
        ],
      }),
    ],
  ])('refuses a corrupt key file (%s) instead of replacing it', (_name, text) => {
    const file = path.join(dir, DELEGATION_KEYS_FILE);
    fs.writeFileSync(file, text, { mode: 0o600 });
    let err: unknown;
    try {
      openKeyRing({ dataDir: dir, now: Date.now, retentionMs: TTL });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DelegationError);
    expect((err as DelegationError).code).toBe('keys_corrupt');
    expect((err as Error).message).toContain(DELEGATION_KEYS_FILE);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });
});
