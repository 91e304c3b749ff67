/**
 * The CaStore contract (ca/store/types.ts), run against every implementation: test/ca/store-sqlite.test.ts
 * (SQLite in a temp dir) and test/ca/store-postgres.test.ts (a PostgreSQL database of the test's own). Each
 * calls caStoreContract with a way to open a fresh, empty store, a second handle on the same state (another
 * process or replica), and ways to break it or make it lose its state.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CaError } from '../../ca/api.js';
import type { CaStore, ConsumedToken, NewIssued, Redemption } from '../../ca/store/types.js';

export interface CaStoreFixture {
  /** a fresh, empty store */
  store: CaStore;
  /** another handle on the same state, as a second process or replica opens it (closed by the fixture's cleanup) */
  reopen(): Promise<CaStore>;
  /** the serial recorded with a token, read from the tables (the interface does not expose it); undefined: no such token */
  tokenSerial(hash: string): Promise<string | null | undefined>;
  /** make every call of `store` fail from now on (closed database / pool) */
  breakIt(): Promise<void>;
  /** make the state no longer the one `store` opened (file deleted; the database's CA root changed) */
  loseIt(): Promise<void>;
  /** how long assertIntact may answer from what it saw last (PostgreSQL looks at most once a second) */
  intactCacheMs: number;
}

const TD = 'spiffe://example.org';
const id = (name: string) => `${TD}/agent/${name}`;
const hash = () => randomBytes(32).toString('hex');
const serial = () => randomBytes(16).toString('hex');

function cert(over: Partial<NewIssued> = {}): NewIssued {
  return { serial: serial(), spiffeId: id('a'), kind: 'svid', notBefore: 1000, notAfter: 100_000, issuedAt: 1500, ...over };
}

/** The CaError('storage') a rejected call must be. */
async function expectStorage(p: Promise<unknown>): Promise<void> {
  const e = await p.then(
    () => {
      throw new Error('expected a storage error, but the call succeeded');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CaError);
  expect(e).toMatchObject({ code: 'storage' });
}

/** A sign callback that records what it saw and issues `c` for the token's identity. */
function signer(c: Partial<NewIssued> = {}) {
  const seen: ConsumedToken[] = [];
  const sign = (t: ConsumedToken) => {
    seen.push(t);
    const issued = cert({ spiffeId: t.spiffeId, ...c });
    return { cert: issued, value: issued.serial };
  };
  return { seen, sign };
}

const neverSign = (): never => {
  throw new Error('sign must not be called');
};

export function caStoreContract(name: string, open: () => Promise<CaStoreFixture>): void {
  describe(`CaStore contract: ${name}`, () => {
    // ---------------------------------------------------------------- meta and the exclusive section

    it('meta: unknown keys read null; writes overwrite and are read through another handle', async () => {
      const f = await open();
      const s = f.store;
      expect(await s.readMeta('nothing')).toBeNull();
      await s.writeMeta('trust_domain', 'example.org');
      await s.writeMeta('trust_domain', 'example.com');
      await s.writeMeta('empty', '');
      expect(await s.readMeta('trust_domain')).toBe('example.com');
      expect(await s.readMeta('empty')).toBe('');
      const other = await f.reopen();
      expect(await other.readMeta('trust_domain')).toBe('example.com');
      await other.writeMeta('from_other', 'x');
      expect(await s.readMeta('from_other')).toBe('x');
    });

    it('exclusive: returns what fn returns (sync or async), and its meta writes are committed', async () => {
      const { store: s } = await open();
      expect(await s.exclusive(() => 42)).toBe(42);
      const seen = await s.exclusive(async (tx) => {
        const before = await tx.readMeta('k');
        await tx.writeMeta('k', 'v1');
        return { before, inside: await tx.readMeta('k') };
      });
      expect(seen).toEqual({ before: null, inside: 'v1' });
      expect(await s.readMeta('k')).toBe('v1');
    });

    it("exclusive: fn's error passes through as is (same object), its writes roll back, and the lock is released", async () => {
      const { store: s } = await open();
      await s.writeMeta('k', 'before');
      const boom = new Error('boom');
      await expect(
        s.exclusive(async (tx) => {
          await tx.writeMeta('k', 'during');
          await tx.writeMeta('k2', 'during');
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await s.readMeta('k')).toBe('before');
      expect(await s.readMeta('k2')).toBeNull();
      // a CaError of another code thrown synchronously is not turned into a storage error either
      const refused = new CaError('invalid_argument', 'wrong trust domain');
      await expect(
        s.exclusive(() => {
          throw refused;
        }),
      ).rejects.toBe(refused);
      // the lock was released every time
      expect(await s.exclusive(async (tx) => tx.readMeta('k'))).toBe('before');
    });

    it('exclusive: two sections from two handles serialise; the second sees what the first committed', async () => {
      const f = await open();
      const other = await f.reopen();
      const order: string[] = [];
      let release = (): void => undefined;
      const gate = new Promise<void>((r) => (release = r));
      let entered = (): void => undefined;
      const firstIn = new Promise<void>((r) => (entered = r));
      const first = f.store.exclusive(async (tx) => {
        order.push('first:start');
        await tx.writeMeta('owner', 'first-partial');
        entered();
        await gate;
        await tx.writeMeta('owner', 'first');
        order.push('first:end');
      });
      await firstIn;
      const second = other.exclusive(async (tx) => {
        order.push('second:start');
        const seen = await tx.readMeta('owner');
        await tx.writeMeta('owner', 'second');
        return seen;
      });
      await sleep(200);
      expect(order).toEqual(['first:start']);
      release();
      await first;
      expect(await second).toBe('first');
      expect(order).toEqual(['first:start', 'first:end', 'second:start']);
      expect(await f.store.readMeta('owner')).toBe('second');
    });

    // ---------------------------------------------------------------- tokens

    it('redeemToken: issues once, recording the certificate with the token; then already_used with usedAt; unknown stays unknown', async () => {
      const f = await open();
      const s = f.store;
      const h = hash();
      await s.createToken({ hash: h, spiffeId: id('a'), createdAt: 1000, expiresAt: 5000 });
      const { seen, sign } = signer({ notAfter: 77_000 });
      const r = await s.redeemToken(h, 2000, sign);
      expect(r.status).toBe('issued');
      const issuedSerial = (r as Extract<Redemption<string>, { status: 'issued' }>).value;
      expect(seen).toEqual([{ spiffeId: id('a'), expiresAt: 5000, banned: false }]);
      expect(await f.tokenSerial(h)).toBe(issuedSerial);
      expect(await s.listIssued()).toEqual([{ serial: issuedSerial, spiffeId: id('a'), notBefore: 1000, notAfter: 77_000, issuedAt: 1500, revoked: false }]);

      expect(await s.redeemToken(h, 3000, neverSign)).toEqual({ status: 'already_used', spiffeId: id('a'), usedAt: 2000 });
      expect(await (await f.reopen()).redeemToken(h, 4000, neverSign)).toEqual({ status: 'already_used', spiffeId: id('a'), usedAt: 2000 });
      expect(await s.redeemToken(hash(), 3000, neverSign)).toEqual({ status: 'unknown' });
      expect(await f.tokenSerial(hash())).toBeUndefined();
      expect(await s.listIssued()).toHaveLength(1);
    });

    it('redeemToken: an expired token is consumed all the same (deciding is sign’s job); a banned identity is reported to sign', async () => {
      const { store: s } = await open();
      const expired = hash();
      await s.createToken({ hash: expired, spiffeId: id('late'), createdAt: 1000, expiresAt: 2000 });
      const a = signer();
      expect((await s.redeemToken(expired, 9000, a.sign)).status).toBe('issued');
      expect(a.seen).toEqual([{ spiffeId: id('late'), expiresAt: 2000, banned: false }]);

      const banned = hash();
      await s.createToken({ hash: banned, spiffeId: id('bad'), createdAt: 1000, expiresAt: 9000 });
      await s.revokeIdentity(id('bad'), 'compromised', 1500);
      const b = signer();
      await s.redeemToken(banned, 2000, b.sign);
      expect(b.seen).toEqual([{ spiffeId: id('bad'), expiresAt: 9000, banned: true }]);
    });

    it('redeemToken: a sign that throws burns the token, records nothing, and its error is rethrown as the same object', async () => {
      const f = await open();
      const s = f.store;
      const h = hash();
      await s.createToken({ hash: h, spiffeId: id('a'), createdAt: 1000, expiresAt: 5000 });
      const refusal = new CaError('token_expired', 'join token expired');
      await expect(
        s.redeemToken(h, 2000, () => {
          throw refusal;
        }),
      ).rejects.toBe(refusal);
      expect(await s.listIssued()).toEqual([]);
      expect(await f.tokenSerial(h)).toBeNull();
      // burnt: a second attempt finds it used, never signs
      expect(await s.redeemToken(h, 3000, neverSign)).toEqual({ status: 'already_used', spiffeId: id('a'), usedAt: 2000 });
      // any thrown value, not only CaError
      const h2 = hash();
      await s.createToken({ hash: h2, spiffeId: id('a'), createdAt: 1000, expiresAt: 5000 });
      const plain = new TypeError('bad CSR');
      await expect(
        s.redeemToken(h2, 2000, () => {
          throw plain;
        }),
      ).rejects.toBe(plain);
      expect(await s.listIssued()).toEqual([]);
    });

    it('redeemToken: when the certificate cannot be recorded, nothing happened: the token is still unused (storage error)', async () => {
      const f = await open();
      const s = f.store;
      const taken = cert();
      await s.recordIssued(taken);
      const h = hash();
      await s.createToken({ hash: h, spiffeId: id('a'), createdAt: 1000, expiresAt: 5000 });
      // sign hands back a serial already recorded: the insert fails, so the whole redemption rolls back
      await expectStorage(s.redeemToken(h, 2000, (t) => ({ cert: cert({ serial: taken.serial, spiffeId: t.spiffeId }), value: 0 })));
      expect(await f.tokenSerial(h)).toBeNull();
      const again = signer();
      expect((await s.redeemToken(h, 2500, again.sign)).status).toBe('issued');
      expect(await s.listIssued()).toHaveLength(2);
    });

    it('redeemToken: 50 concurrent redemptions of one token through two handles issue exactly once', async () => {
      const f = await open();
      const other = await f.reopen();
      const h = hash();
      await f.store.createToken({ hash: h, spiffeId: id('race'), createdAt: 1000, expiresAt: 50_000 });
      let signed = 0;
      const sign = (t: ConsumedToken) => {
        signed++;
        const c = cert({ spiffeId: t.spiffeId });
        return { cert: c, value: c.serial };
      };
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? f.store : other).redeemToken(h, 2000 + i, sign)));
      const issued = results.filter((r) => r.status === 'issued');
      expect(issued).toHaveLength(1);
      expect(signed).toBe(1);
      const winner = issued[0];
      const usedAt = 2000 + results.indexOf(winner);
      for (const r of results) if (r !== winner) expect(r).toEqual({ status: 'already_used', spiffeId: id('race'), usedAt });
      expect(await f.tokenSerial(h)).toBe(winner.value);
      expect((await other.listIssued()).map((c) => c.serial)).toEqual([winner.value]);
    });

    it('createToken: a hash already stored is refused as a storage error and the first token is kept', async () => {
      const { store: s } = await open();
      const h = hash();
      await s.createToken({ hash: h, spiffeId: id('a'), createdAt: 1000, expiresAt: 5000 });
      await expectStorage(s.createToken({ hash: h, spiffeId: id('b'), createdAt: 1000, expiresAt: 5000 }));
      const a = signer();
      await s.redeemToken(h, 2000, a.sign);
      expect(a.seen[0].spiffeId).toBe(id('a'));
    });

    it('pruneTokens: forgets tokens and used-token tombstones that expired before the cutoff, and says how many', async () => {
      const { store: s } = await open();
      const [old, oldUsed, edge, fresh] = [hash(), hash(), hash(), hash()];
      await s.createToken({ hash: old, spiffeId: id('a'), createdAt: 0, expiresAt: 1000 });
      await s.createToken({ hash: oldUsed, spiffeId: id('a'), createdAt: 0, expiresAt: 1500 });
      await s.createToken({ hash: edge, spiffeId: id('a'), createdAt: 0, expiresAt: 2000 });
      await s.createToken({ hash: fresh, spiffeId: id('a'), createdAt: 0, expiresAt: 9000 });
      await s.redeemToken(oldUsed, 100, signer().sign);
      expect(await s.pruneTokens(2000)).toBe(2);
      expect(await s.pruneTokens(2000)).toBe(0);
      expect(await s.redeemToken(old, 100, neverSign)).toEqual({ status: 'unknown' });
      expect(await s.redeemToken(oldUsed, 100, neverSign)).toEqual({ status: 'unknown' });
      // the certificate a pruned token produced stays recorded
      expect(await s.listIssued()).toHaveLength(1);
      expect((await s.redeemToken(edge, 100, signer().sign)).status).toBe('issued');
      expect((await s.redeemToken(fresh, 100, signer().sign)).status).toBe('issued');
    });

    // ---------------------------------------------------------------- issued certificates

    it('recordIssued / recordIssuedMany: records every certificate; a batch is all or none', async () => {
      const { store: s } = await open();
      const one = cert({ issuedAt: 1 });
      await s.recordIssued(one);
      await s.recordIssuedMany([cert({ issuedAt: 2 })]);
      await s.recordIssuedMany([cert({ issuedAt: 3 }), cert({ issuedAt: 4, kind: 'gateway' }), cert({ issuedAt: 5 })]);
      expect(await s.listIssued()).toHaveLength(5);

      // a duplicate serial inside the batch: none of it is recorded
      const dup = cert();
      await expectStorage(s.recordIssuedMany([cert(), dup, cert(), { ...dup, spiffeId: id('b') }]));
      expect(await s.listIssued()).toHaveLength(5);
      // a serial already recorded anywhere in the batch: none either
      await expectStorage(s.recordIssuedMany([cert(), cert(), { ...one, issuedAt: 99 }]));
      await expectStorage(s.recordIssued({ ...one }));
      expect(await s.listIssued()).toHaveLength(5);
      // an empty batch records nothing and succeeds
      await s.recordIssuedMany([]);
      expect(await s.listIssued()).toHaveLength(5);
    });

    it('listIssued: newest first (then by serial), filtered by identity, limited (default 1000)', async () => {
      const f = await open();
      const s = f.store;
      const a1 = cert({ spiffeId: id('a'), issuedAt: 10, serial: 'aa01' });
      const a2 = cert({ spiffeId: id('a'), issuedAt: 30, serial: 'aa02' });
      const b1 = cert({ spiffeId: id('b'), issuedAt: 20, serial: 'bb01' });
      const tieB = cert({ spiffeId: id('b'), issuedAt: 30, serial: '0b' });
      const tieA = cert({ spiffeId: id('a'), issuedAt: 30, serial: '0a' });
      await s.recordIssuedMany([a1, a2, b1, tieB, tieA]);
      const serials = (list: { serial: string }[]) => list.map((c) => c.serial);
      expect(serials(await s.listIssued())).toEqual(['0a', '0b', 'aa02', 'bb01', 'aa01']);
      expect(serials(await s.listIssued({ spiffeId: id('a') }))).toEqual(['0a', 'aa02', 'aa01']);
      expect(serials(await s.listIssued({ spiffeId: id('nobody') }))).toEqual([]);
      expect(serials(await s.listIssued({ limit: 2 }))).toEqual(['0a', '0b']);
      expect(serials(await s.listIssued({ limit: 2.9 }))).toEqual(['0a', '0b']);
      expect(serials(await s.listIssued({ spiffeId: id('b'), limit: 1 }))).toEqual(['0b']);
      expect(await s.listIssued({ spiffeId: id('a'), limit: 1 })).toEqual([
        { serial: '0a', spiffeId: id('a'), notBefore: 1000, notAfter: 100_000, issuedAt: 30, revoked: false },
      ]);
      // 0 and negative limits mean the default; the default is 1000
      await s.recordIssuedMany(Array.from({ length: 1000 }, (_, i) => cert({ spiffeId: id('bulk'), issuedAt: 1 + (i % 7) })));
      expect(await s.listIssued({ limit: 0 })).toHaveLength(1000);
      expect(await s.listIssued({ limit: -5 })).toHaveLength(1000);
      expect(await s.listIssued({ limit: 1005 })).toHaveLength(1005);
      expect(await (await f.reopen()).listIssued({ spiffeId: id('bulk'), limit: 5000 })).toHaveLength(1000);
    });

    it('listIssued: the revoked flag covers a revoked serial and every certificate of a banned identity, even one recorded after the ban', async () => {
      const { store: s } = await open();
      const a1 = cert({ spiffeId: id('a'), issuedAt: 1 });
      const a2 = cert({ spiffeId: id('a'), issuedAt: 2 });
      const b1 = cert({ spiffeId: id('b'), issuedAt: 3 });
      const b2 = cert({ spiffeId: id('b'), issuedAt: 4 });
      await s.recordIssuedMany([a1, a2, b1, b2]);
      const flags = async () => Object.fromEntries((await s.listIssued()).map((c) => [c.serial, c.revoked]));
      expect(await s.revokeSerial(a1.serial, 'key leaked', 10)).toBe('revoked');
      expect(await flags()).toEqual({ [a1.serial]: true, [a2.serial]: false, [b1.serial]: false, [b2.serial]: false });
      await s.revokeIdentity(id('b'), 'compromised', 11);
      const late = cert({ spiffeId: id('b'), issuedAt: 5 }); // recorded by another process just as the ban was written
      await s.recordIssued(late);
      expect(await flags()).toEqual({ [a1.serial]: true, [a2.serial]: false, [b1.serial]: true, [b2.serial]: true, [late.serial]: true });
      // lifting the ban: the certificates revoked with it stay revoked; the one never revoked itself is valid again
      expect(await s.unrevokeIdentity(id('b'), 12)).toBe(true);
      expect(await flags()).toEqual({ [a1.serial]: true, [a2.serial]: false, [b1.serial]: true, [b2.serial]: true, [late.serial]: false });
    });

    // ---------------------------------------------------------------- revocation

    it('revokeIdentity / unrevokeIdentity / revokeSerial: return values and the log they write, in order', async () => {
      const f = await open();
      const s = f.store;
      const a1 = cert({ spiffeId: id('a'), notAfter: 50_000 });
      const a2 = cert({ spiffeId: id('a'), notAfter: 60_000 });
      const b1 = cert({ spiffeId: id('b'), notAfter: 70_000 });
      await s.recordIssuedMany([a1, a2, b1]);

      expect(await s.revokeSerial(a1.serial, 'leaked', 100)).toBe('revoked');
      expect(await s.revokeSerial(a1.serial, 'again', 101)).toBe('already_revoked');
      expect(await s.revokeSerial('ffff', 'typo', 102)).toBe('unknown_serial');
      // a1 was revoked already: only a2 is newly revoked
      expect(await s.revokeIdentity(id('a'), 'compromised', 103)).toBe(1);
      expect(await s.revokeIdentity(id('a'), 'still compromised', 104)).toBe(0);
      expect(await s.revokeSerial(a2.serial, 'x', 105)).toBe('already_revoked');
      expect(await s.revokeIdentity(id('nobody'), 'pre-emptive', 106)).toBe(0);
      expect(await s.unrevokeIdentity(id('a'), 107)).toBe(true);
      expect(await s.unrevokeIdentity(id('a'), 108)).toBe(false);
      expect(await s.unrevokeIdentity(id('never'), 109)).toBe(false);
      expect(await s.revokeIdentity(id('b'), 'gone', 110)).toBe(1);

      const log = await s.revocationsSince(0);
      expect(log.map(({ seq: _seq, ...e }) => e)).toEqual([
        { kind: 'serial', serial: a1.serial, spiffeId: id('a'), notAfter: 50_000 },
        { kind: 'serial', serial: a2.serial, spiffeId: id('a'), notAfter: 60_000 },
        { kind: 'identity', spiffeId: id('a') },
        { kind: 'identity', spiffeId: id('a') },
        { kind: 'identity', spiffeId: id('nobody') },
        { kind: 'unrevoke_identity', spiffeId: id('a') },
        { kind: 'serial', serial: b1.serial, spiffeId: id('b'), notAfter: 70_000 },
        { kind: 'identity', spiffeId: id('b') },
      ]);
      const seqs = log.map((e) => e.seq);
      expect(seqs.every((q, i) => Number.isSafeInteger(q) && q > 0 && (i === 0 || q > seqs[i - 1]))).toBe(true);
      // the other handle reads the same log
      expect(await (await f.reopen()).revocationsSince(0)).toEqual(log);
    });

    it('revokeIdentity logs one serial event per certificate it revoked, each with its notAfter, before the identity event', async () => {
      const { store: s } = await open();
      const certs = Array.from({ length: 5 }, (_, i) => cert({ spiffeId: id('many'), notAfter: 10_000 + i }));
      await s.recordIssuedMany([...certs, cert({ spiffeId: id('other') })]);
      expect(await s.revokeIdentity(id('many'), 'r', 1)).toBe(5);
      const log = await s.revocationsSince(0);
      expect(log).toHaveLength(6);
      expect(log[5]).toMatchObject({ kind: 'identity', spiffeId: id('many') });
      const serialEvents = log.slice(0, 5).map((e) => (e.kind === 'serial' ? [e.serial, e.notAfter] : null));
      expect(serialEvents.sort()).toEqual(certs.map((c) => [c.serial, c.notAfter]).sort());
    });

    it('isRevoked / isBanned: a revoked serial, a banned identity, and what lifting a ban restores', async () => {
      const { store: s } = await open();
      const a1 = cert({ spiffeId: id('a') });
      const a2 = cert({ spiffeId: id('a') });
      const b1 = cert({ spiffeId: id('b') });
      await s.recordIssuedMany([a1, a2, b1]);
      expect(await s.isRevoked(a1.serial, id('a'))).toBe(false);
      expect(await s.isRevoked('0000', id('x'))).toBe(false);
      expect(await s.isBanned(id('a'))).toBe(false);

      await s.revokeSerial(a1.serial, 'r', 1);
      expect(await s.isRevoked(a1.serial, id('a'))).toBe(true);
      expect(await s.isRevoked(a2.serial, id('a'))).toBe(false);
      expect(await s.isBanned(id('a'))).toBe(false);

      await s.revokeIdentity(id('b'), 'r', 2);
      expect(await s.isBanned(id('b'))).toBe(true);
      expect(await s.isRevoked(b1.serial, id('b'))).toBe(true);
      expect(await s.isRevoked('never-issued', id('b'))).toBe(true); // the identity, whatever the serial

      await s.unrevokeIdentity(id('b'), 3);
      expect(await s.isBanned(id('b'))).toBe(false);
      expect(await s.isRevoked(b1.serial, id('b'))).toBe(true); // revoked with the ban, stays revoked
      expect(await s.isRevoked('never-issued', id('b'))).toBe(false);
    });

    it('revocationsSince: pages by cursor and limit; a cursor at the end reads nothing', async () => {
      const f = await open();
      const s = f.store;
      for (let i = 0; i < 7; i++) await s.revokeIdentity(id(`r${i}`), 'r', i);
      const all = await s.revocationsSince(0);
      expect(all.map((e) => e.spiffeId)).toEqual(Array.from({ length: 7 }, (_, i) => id(`r${i}`)));
      const paged = [];
      for (let cursor = 0; ;) {
        const page = await s.revocationsSince(cursor, 3);
        expect(page.length).toBeLessThanOrEqual(3);
        if (page.length === 0) break;
        paged.push(...page);
        cursor = page[page.length - 1].seq;
      }
      expect(paged).toEqual(all);
      expect(await s.revocationsSince(all[2].seq)).toEqual(all.slice(3));
      expect(await s.revocationsSince(all[2].seq, 2)).toEqual(all.slice(3, 5));
      expect(await s.revocationsSince(0, 0)).toEqual([]);
      expect(await s.revocationsSince(all[6].seq)).toEqual([]);
      // what another handle writes is read after the same cursor
      const other = await f.reopen();
      await other.revokeIdentity(id('late'), 'r', 99);
      expect(await s.revocationsSince(all[6].seq)).toEqual([expect.objectContaining({ kind: 'identity', spiffeId: id('late') })]);
    });

    // ---------------------------------------------------------------- integrity and failures

    it('assertIntact: resolves while the store is the one opened, rejects with a storage error once its state is lost', async () => {
      const f = await open();
      await f.store.exclusive((tx) => tx.writeMeta('root_fingerprint', 'sha256:ROOT-A'));
      await f.store.assertIntact();
      await f.store.assertIntact();
      await f.loseIt();
      await sleep(f.intactCacheMs);
      await expectStorage(f.store.assertIntact());
      await expectStorage(f.store.assertIntact());
    });

    it('every call on a broken store rejects with CaError("storage"); sign is never called', async () => {
      const f = await open();
      const s = f.store;
      const h = hash();
      await s.createToken({ hash: h, spiffeId: id('a'), createdAt: 1, expiresAt: 9000 });
      await f.breakIt();
      await expectStorage(s.readMeta('k'));
      await expectStorage(s.writeMeta('k', 'v'));
      await expectStorage(s.exclusive(neverSign));
      await expectStorage(s.createToken({ hash: hash(), spiffeId: id('a'), createdAt: 1, expiresAt: 9000 }));
      await expectStorage(s.redeemToken(h, 2, neverSign));
      await expectStorage(s.pruneTokens(5));
      await expectStorage(s.recordIssued(cert()));
      await expectStorage(s.recordIssuedMany([cert(), cert()]));
      await expectStorage(s.listIssued());
      await expectStorage(s.revokeIdentity(id('a'), 'r', 3));
      await expectStorage(s.unrevokeIdentity(id('a'), 3));
      await expectStorage(s.revokeSerial('abcd', 'r', 3));
      await expectStorage(s.isRevoked('abcd', id('a')));
      await expectStorage(s.isBanned(id('a')));
      await expectStorage(s.revocationsSince(0));
    });
  });
}
