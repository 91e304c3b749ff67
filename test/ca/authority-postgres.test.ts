/**
 * The authority over PostgreSQL, as a fleet runs it: replicas with their own data dirs holding the same
 * root-ca.pem share one database. A token made on one redeems on another exactly once, a revocation
 * written by one reaches the others' in-memory checks, and a replica with another root (or none) is refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateSvid } from '../../certs/svid.js';
import { openAuthority, type Authority } from '../../ca/authority.js';
import { PostgresCaStore } from '../../ca/store/postgres.js';
import { openPostgres } from '../../database/postgres.js';
import { createTestDatabase, type TestDatabase } from '../pg.js';
import { TD, chainDer, expectCaError, makeCsr, removeTempDirs, tempDir } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  removeTempDirs();
});

const ID = `spiffe://${TD}/agent/writer`;
const REFRESH_MS = 50;

async function fresh(): Promise<TestDatabase> {
  const t = await createTestDatabase();
  cleanup.push(() => t.drop());
  return t;
}

/** A replica: its own pool on the database and its own data dir; the authority closes the pool with itself. */
async function replica(url: string, dataDir = tempDir('tollgate-replica-'), refreshMs = REFRESH_MS): Promise<Authority> {
  const db = await openPostgres(url, { max: 4 });
  cleanup.push(() => db.close()); // (also when the open is refused)
  const ca = await openAuthority({ dataDir, trustDomain: TD, revocationRefreshMs: refreshMs, store: new PostgresCaStore(db, { ownsDatabase: true }) });
  cleanup.push(() => ca.close());
  return ca;
}

/** A second replica's data dir: the first one's root-ca.pem copied in, as an operator (or a secret mount) does. */
function dirWithRootOf(ca: Authority): string {
  const dir = tempDir('tollgate-replica-');
  fs.copyFileSync(path.join(ca.dataDir, 'root-ca.pem'), path.join(dir, 'root-ca.pem'));
  fs.chmodSync(path.join(dir, 'root-ca.pem'), 0o600);
  return dir;
}

async function fleetOfTwo(): Promise<{ t: TestDatabase; a: Authority; b: Authority }> {
  const t = await fresh();
  const a = await replica(t.url);
  const b = await replica(t.url, dirWithRootOf(a));
  return { t, a, b };
}

async function waitUntil(what: string, cond: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - start;
}

describe('authority over PostgreSQL: two replicas, one database', () => {
  it('share the root; each signs with an intermediate of its own that chains to it', async () => {
    const { a, b } = await fleetOfTwo();
    expect(b.rootFingerprint()).toBe(a.rootFingerprint());
    expect(b.bundlePem()).toBe(a.bundlePem());
    const { token } = await a.createJoinToken(ID);
    const svid = await b.bootstrap(token, (await makeCsr()).der);
    const [, bIntermediate] = chainDer(svid.certChainPem);
    const { token: t2 } = await b.createJoinToken(ID);
    const [, aIntermediate] = chainDer((await a.bootstrap(t2, (await makeCsr()).der)).certChainPem);
    expect(bIntermediate.equals(aIntermediate)).toBe(false);
    // what B issued validates against A's bundle
    const v = validateSvid({ chain: chainDer(svid.certChainPem), bundle: a.bundleDer(), now: Date.now(), trustDomain: TD, usage: 'client' });
    expect(v.id.uri).toBe(ID);
  });

  it('a token created via A redeems via B exactly once, even when both race for it', async () => {
    const { a, b } = await fleetOfTwo();
    const { token } = await a.createJoinToken(ID);
    const csr = (await makeCsr()).der;
    const results = await Promise.allSettled([a, b, a, b, b, a].map((ca) => ca.bootstrap(token, csr)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ name: 'CaError', code: 'token_used' });
    const serial = won[0].value.serial;
    // both replicas list the one certificate
    expect((await a.listIssued({ spiffeId: ID })).map((c) => c.serial)).toEqual([serial]);
    expect((await b.listIssued({ spiffeId: ID })).map((c) => c.serial)).toEqual([serial]);
    await expectCaError(b.bootstrap(token, csr), 'token_used', /already used/);

    // and a token made on A for B to redeem, sequentially
    const next = await a.createJoinToken(ID);
    expect((await b.bootstrap(next.token, csr)).spiffeId).toBe(ID);
  });

  it("a revocation written via A reaches B's in-memory isRevoked within its refresh interval, and so does lifting a ban", async () => {
    const { a, b } = await fleetOfTwo();
    const { token } = await a.createJoinToken(ID);
    const svid = await b.bootstrap(token, (await makeCsr()).der);
    const other = `spiffe://${TD}/agent/other`;
    expect(b.isRevoked(svid.serial, ID)).toBe(false);

    await a.revokeSerial(svid.serial, 'key leaked');
    expect(a.isRevoked(svid.serial, ID)).toBe(true); // the writer at once
    const serialMs = await waitUntil('B sees the revoked serial', () => b.isRevoked(svid.serial, ID), 10 * REFRESH_MS);

    await a.revokeIdentity(other, 'compromised');
    const banMs = await waitUntil('B sees the ban', () => b.isRevoked('00aa', other), 10 * REFRESH_MS);
    await a.unrevokeIdentity(other);
    await waitUntil('B sees the ban lifted', () => !b.isRevoked('00aa', other), 10 * REFRESH_MS);
    expect(b.isRevoked(svid.serial, ID)).toBe(true);
    // a refresh interval plus a query, with slack for a loaded machine
    expect(Math.max(serialMs, banMs)).toBeLessThan(10 * REFRESH_MS);
  });

  it("a revocation written via A is enforced by B at once, announced by the database, not at B's next refresh (a minute away)", async () => {
    const t = await fresh();
    const a = await replica(t.url, undefined, 60_000);
    const b = await replica(t.url, dirWithRootOf(a), 60_000);
    const { token } = await a.createJoinToken(ID);
    const svid = await b.bootstrap(token, (await makeCsr()).der);
    expect(b.isRevoked(svid.serial, ID)).toBe(false);
    await a.revokeSerial(svid.serial, 'key leaked');
    const serialMs = await waitUntil('B sees the revoked serial', () => b.isRevoked(svid.serial, ID), 2000);
    const other = `spiffe://${TD}/agent/other`;
    await a.revokeIdentity(other, 'compromised');
    const banMs = await waitUntil('B sees the ban', () => b.isRevoked('00aa', other), 2000);
    await a.unrevokeIdentity(other);
    await waitUntil('B sees the ban lifted', () => !b.isRevoked('00aa', other), 2000);
    expect(Math.max(serialMs, banMs)).toBeLessThan(2000);
  });

  it('a ban written via A holds for a token redeemed via B at once (read in the redemption, not from the cache)', async () => {
    const { a, b } = await fleetOfTwo();
    const { token } = await b.createJoinToken(ID);
    await a.revokeIdentity(ID, 'compromised');
    await expectCaError(b.bootstrap(token, (await makeCsr()).der), 'revoked', /is revoked/);
    await expectCaError(b.bootstrap(token, (await makeCsr()).der), 'token_used'); // burnt by the failed attempt
  });

  it('deriveSecret is the same on every replica of one root, and differs for another root and another purpose', async () => {
    const { a, b } = await fleetOfTwo();
    const elsewhere = await openAuthority({ dataDir: tempDir('tollgate-other-'), trustDomain: TD }); // SQLite, a root of its own
    cleanup.push(() => elsewhere.close());
    const purpose = 'delegation keys v1';
    expect(a.deriveSecret(purpose)).toHaveLength(32);
    expect(b.deriveSecret(purpose).equals(a.deriveSecret(purpose))).toBe(true);
    expect(elsewhere.deriveSecret(purpose).equals(a.deriveSecret(purpose))).toBe(false);
    expect(a.deriveSecret('another purpose').equals(a.deriveSecret(purpose))).toBe(false);
  });
});

describe('authority over PostgreSQL: replicas that do not belong', () => {
  it('a data dir with another root is refused, saying to copy the fleet’s root-ca.pem', async () => {
    const t = await fresh();
    const a = await replica(t.url);
    // a CA of its own (SQLite in its data dir), then pointed at the fleet's database
    const dir = tempDir('tollgate-other-');
    const own = await openAuthority({ dataDir: dir, trustDomain: TD });
    const ownRoot = own.rootFingerprint();
    await own.close();
    const e = await expectCaError(replica(t.url, dir), 'storage');
    expect(e.message).toContain(`root-ca.pem (${ownRoot}) is not the root`);
    expect(e.message).toContain(`(${a.rootFingerprint()})`);
    expect(e.message).toContain("copy the fleet's root-ca.pem from a running replica");
    // the fleet's records are untouched: A still works
    const { token } = await a.createJoinToken(ID);
    await a.bootstrap(token, (await makeCsr()).der);
  });

  it('a fresh data dir without root-ca.pem is refused against a database that has a CA, and nothing is created in it', async () => {
    const t = await fresh();
    const a = await replica(t.url);
    const dir = tempDir('tollgate-new-');
    const e = await expectCaError(replica(t.url, dir), 'storage');
    expect(e.message).toContain(path.join(dir, 'root-ca.pem'));
    expect(e.message).toContain(`belongs to the fleet's CA with root ${a.rootFingerprint()}`);
    expect(e.message).toMatch(/copy root-ca\.pem \(0600\) from a running replica's data dir/);
    expect(fs.existsSync(path.join(dir, 'root-ca.pem'))).toBe(false);
    // with the file copied in, the same directory joins
    fs.copyFileSync(path.join(a.dataDir, 'root-ca.pem'), path.join(dir, 'root-ca.pem'));
    fs.chmodSync(path.join(dir, 'root-ca.pem'), 0o600);
    expect((await replica(t.url, dir)).rootFingerprint()).toBe(a.rootFingerprint());
  });
});
