/**
 * The delegation key ring a fleet shares through PostgreSQL (governance/delegation/postgres-keys.ts): two
 * rings on one database stand for two replicas. They agree on the signing key, verify each other's
 * contexts, learn a rotation at once (announced) and sign with the new key only after ACTIVATION_MS, rotate once when
 * both try (and take no lock while the key is young), prune after the retention, refuse a table sealed under another key, and never store a secret
 * in clear.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { verifyContext } from '../../governance/delegation/decide.js';
import { DelegationError } from '../../governance/delegation/errors.js';
import { ACTIVATION_MS, openPostgresKeyRing, type SharedKeyRing } from '../../governance/delegation/postgres-keys.js';
import { openContext, signContext, type ContextPayload } from '../../governance/delegation/token.js';
import { type PostgresDatabase } from '../../database/postgres.js';
import { postgresPerTest } from '../pg.js';
import { ID, fakeClock } from './helpers.js';

const TTL = 15 * 60_000;
const HOUR = 3_600_000;

const { fresh, pool, defer } = postgresPerTest({ max: 3 });

type Clock = ReturnType<typeof fakeClock>;

/** One replica's ring: its own pool; no background poll unless asked (the tests call sync()). */
async function ring(
  url: string,
  o: { clock: Clock; sealKey: Buffer; pollMs?: number; warnings?: string[] },
): Promise<{ shared: SharedKeyRing; db: PostgresDatabase }> {
  const db = await pool(url);
  const shared = await openPostgresKeyRing({
    db,
    sealKey: o.sealKey,
    now: o.clock.now,
    retentionMs: TTL,
    pollMs: o.pollMs ?? HOUR,
    log: { warn: (_obj, msg) => o.warnings?.push(msg) },
  });
  defer(() => {
    shared.close();
    return Promise.resolve();
  });
  return { shared, db };
}

async function twoReplicas() {
  const t = await fresh();
  const clock = fakeClock();
  const sealKey = randomBytes(32);
  const [a, b] = await Promise.all([ring(t.url, { clock, sealKey }), ring(t.url, { clock, sealKey })]);
  return { t, clock, sealKey, a: a.shared, b: b.shared, db: a.db };
}

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

async function kids(db: PostgresDatabase): Promise<string[]> {
  return (await db.query<{ kid: string }>('SELECT kid FROM delegation_keys ORDER BY created_at, kid')).rows.map((r) => r.kid);
}

describe('shared delegation key ring (PostgreSQL)', () => {
  it('two replicas opening together make one key, agree on it, and verify what the other signed', async () => {
    const { a, b, clock, db } = await twoReplicas();
    expect(await kids(db)).toEqual([a.ring.current().kid]);
    expect(b.ring.current().kid).toBe(a.ring.current().kid);
    expect(b.ring.current().secret.equals(a.ring.current().secret)).toBe(true);
    const token = signContext(payload(clock.now()), a.ring.current());
    expect(verifyContext(token, ID.orchestrator, clock.now(), b.ring)).toMatchObject({ ok: true });
    const back = signContext(payload(clock.now()), b.ring.current());
    expect(verifyContext(back, ID.orchestrator, clock.now(), a.ring)).toMatchObject({ ok: true });
  });

  it('a rotation by A reaches B on sync; the new key signs only ACTIVATION_MS after it was written, the old one keeps verifying', async () => {
    const { a, b, clock, db } = await twoReplicas();
    const oldKid = a.ring.current().kid;
    expect(await a.rotateIfOlderThan(HOUR)).toBe(false); // not old yet
    expect(await kids(db)).toHaveLength(1);

    clock.advance(HOUR);
    expect(await a.rotateIfOlderThan(HOUR)).toBe(true);
    const newKid = (await kids(db)).find((k) => k !== oldKid);
    expect(newKid).toBeDefined();
    // A knows it but does not sign with it yet; B learns it without a poll (its poll is an hour away):
    // the database announces the write (database/change-feed.ts)
    expect(a.ring.get(newKid!)).toBeDefined();
    expect(a.ring.current().kid).toBe(oldKid);
    for (let i = 0; i < 200 && b.ring.get(newKid!) === undefined; i++) await sleep(10);
    expect(b.ring.get(newKid!), 'B heard of the new key within 2 s').toBeDefined();
    await b.sync();
    expect(b.ring.get(newKid!)).toBeDefined();
    expect(b.ring.current().kid).toBe(oldKid);

    const signedBefore = signContext(payload(clock.now()), a.ring.current());
    clock.advance(ACTIVATION_MS - 1);
    await Promise.all([a.sync(), b.sync()]);
    expect([a.ring.current().kid, b.ring.current().kid]).toEqual([oldKid, oldKid]);
    clock.advance(1);
    await Promise.all([a.sync(), b.sync()]);
    expect([a.ring.current().kid, b.ring.current().kid]).toEqual([newKid, newKid]);

    const signedAfter = signContext(payload(clock.now()), a.ring.current());
    expect(verifyContext(signedAfter, ID.orchestrator, clock.now(), b.ring)).toMatchObject({ ok: true, context: { kid: newKid } });
    expect(verifyContext(signedBefore, ID.orchestrator, clock.now(), b.ring)).toMatchObject({ ok: true, context: { kid: oldKid } });
    // the old key is retired when the new one became active
    expect(b.ring.list().find((k) => k.kid === oldKid)).toMatchObject({ current: false, retiredAt: clock.now() });
  });

  it('of both replicas rotating at the same moment, one does', async () => {
    const { a, b, clock, db } = await twoReplicas();
    clock.advance(HOUR);
    const results = await Promise.all([a.rotateIfOlderThan(HOUR), b.rotateIfOlderThan(HOUR), a.rotateIfOlderThan(HOUR), b.rotateIfOlderThan(HOUR)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await kids(db)).toHaveLength(2);
    clock.advance(ACTIVATION_MS);
    await Promise.all([a.sync(), b.sync()]);
    expect(a.ring.current().kid).toBe(b.ring.current().kid);
    expect(a.ring.current().kid).toBe((await kids(db))[1]);
  });

  it('a key is pruned at the rotation after its successor has signed for the retention period, not before', async () => {
    const { a, b, clock, db } = await twoReplicas();
    const MAX_AGE = 60_000; // rotate every minute: less than the retention
    const k1 = a.ring.current().kid;
    const token1 = signContext(payload(clock.now()), a.ring.current());
    clock.advance(MAX_AGE);
    await a.rotateIfOlderThan(MAX_AGE);
    const t1 = clock.now(); // k2 written
    const [, k2] = await kids(db);

    // one millisecond before k1's tokens have all expired: a rotation keeps k1
    clock.set(t1 + ACTIVATION_MS + TTL - 1);
    expect(await b.rotateIfOlderThan(MAX_AGE)).toBe(true);
    const [, , k3] = await kids(db);
    expect(await kids(db)).toEqual([k1, k2, k3]);
    await a.sync();
    expect(openContext(token1, a.ring).ok).toBe(true);

    // the next rotation, past that point: k1 goes (k2's successor k3 has not signed long enough)
    clock.advance(MAX_AGE);
    expect(await b.rotateIfOlderThan(MAX_AGE)).toBe(true);
    const rows = await kids(db);
    expect(rows).toHaveLength(3);
    expect(rows.slice(0, 2)).toEqual([k2, k3]);
    await Promise.all([a.sync(), b.sync()]);
    expect(a.ring.get(k1)).toBeUndefined();
    expect(b.ring.get(k1)).toBeUndefined();
    expect(openContext(token1, a.ring)).toMatchObject({ ok: false, reason: 'context_unknown_key' });
    expect(a.ring.list().map((k) => k.kid)).toEqual(rows);
  });

  it('a replica with another seal key (another CA root) is refused with keys_corrupt naming the key', async () => {
    const { t, a, clock } = await twoReplicas();
    const kid = a.ring.current().kid;
    const err = await ring(t.url, { clock, sealKey: randomBytes(32) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DelegationError);
    expect(err).toMatchObject({ code: 'keys_corrupt' });
    expect((err as Error).message).toContain(`delegation key ${kid}`);
    expect((err as Error).message).toMatch(/another CA root .*root-ca\.pem/);
  });

  it('a sealed secret moved to another key id does not unseal (the key id is bound), and the poll warns and keeps the keys held', async () => {
    const t = await fresh();
    const clock = fakeClock();
    const sealKey = randomBytes(32);
    const warnings: string[] = [];
    const { shared, db } = await ring(t.url, { clock, sealKey, pollMs: 20, warnings });
    const kid = shared.ring.current().kid;
    await db.query("INSERT INTO delegation_keys (kid, sealed, created_at) SELECT 'moved', sealed, created_at - 1 FROM delegation_keys");
    await expect(shared.sync()).rejects.toMatchObject({ code: 'keys_corrupt', message: expect.stringContaining('delegation key moved') });
    for (let i = 0; i < 100 && warnings.length === 0; i++) await sleep(20);
    expect(warnings[0]).toMatch(/reading the shared key table failed; verifying with the keys held/);
    expect(shared.ring.current().kid).toBe(kid);
  });

  it('stores no secret in clear: the sealed column holds neither the secret nor any encoding of it', async () => {
    const { a, db } = await twoReplicas();
    const secret = a.ring.current().secret;
    const { rows } = await db.query<{ kid: string; sealed: string }>('SELECT kid, sealed FROM delegation_keys');
    expect(rows).toHaveLength(1);
    const { sealed } = rows[0];
    const raw = Buffer.from(sealed, 'base64url');
    expect(raw.length).toBeGreaterThanOrEqual(12 + 16 + secret.length); // iv, tag, ciphertext
    expect(raw.includes(secret)).toBe(false);
    for (let i = 0; i + 8 <= secret.length; i += 8) expect(raw.includes(secret.subarray(i, i + 8))).toBe(false);
    for (const enc of ['hex', 'base64', 'base64url'] as const) expect(sealed).not.toContain(secret.toString(enc).slice(0, 16));
    const whole = JSON.stringify((await db.query('SELECT * FROM delegation_keys')).rows);
    expect(whole).not.toContain(secret.toString('base64url').slice(0, 16));
    expect(whole).not.toContain(secret.toString('hex').slice(0, 16));
  });

  it('asks the database nothing while the newest key it read is young; rotates when it is old, or when the table was found empty', async () => {
    const { a, clock, db } = await twoReplicas();
    const transactions = vi.spyOn(db, 'transaction');
    for (let i = 0; i < 5; i++) expect(await a.rotateIfOlderThan(HOUR)).toBe(false);
    clock.advance(HOUR - 1);
    expect(await a.rotateIfOlderThan(HOUR)).toBe(false);
    expect(transactions).not.toHaveBeenCalled();

    clock.advance(1);
    expect(await a.rotateIfOlderThan(HOUR)).toBe(true);
    expect(transactions).toHaveBeenCalledTimes(1);
    expect(await kids(db)).toHaveLength(2);
    expect(await a.rotateIfOlderThan(HOUR)).toBe(false); // the key it just wrote is young
    expect(transactions).toHaveBeenCalledTimes(1);

    // an emptied table (an operator's DELETE): the next check makes a key again, as on a new fleet
    await db.query('DELETE FROM delegation_keys');
    await a.sync();
    expect(await a.rotateIfOlderThan(HOUR)).toBe(true);
    expect(transactions).toHaveBeenCalledTimes(2);
    expect(await kids(db)).toHaveLength(1);
  });
});
