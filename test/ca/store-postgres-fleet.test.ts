/**
 * PostgresCaStore beyond the shared contract: the "store lost" check on the root fingerprint (and an
 * unreachable database not taken for a lost one), failures inside the exclusive section, and the revocation
 * log's order under concurrent writers from several pools.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CaError } from '../../ca/api.js';
import { PostgresCaStore } from '../../ca/store/postgres.js';
import type { NewIssued, RevocationEvent } from '../../ca/store/types.js';
import { postgresPerTest } from '../pg.js';

const { fresh, pool, defer } = postgresPerTest({ max: 10 });

/** the store checks the database's root at most once a second */
const INTACT_CACHE_MS = 1100;

/** A TCP relay in front of the PostgreSQL server, to take the database away (and back) as the network would. */
async function relay(target: URL) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    const up = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [c, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    c.pipe(up);
    up.pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  let up = true;
  const down = async () => {
    if (!up) return;
    up = false;
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  defer(down);
  return {
    url: url.toString(),
    down,
    async up() {
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
      up = true;
    },
  };
}

const TD = 'spiffe://example.org';

describe('PostgreSQL CaStore: "store lost"', () => {
  it('is judged on the root fingerprint at most once a second: changed, deleted, and restored again', async () => {
    const t = await fresh();
    const db = await pool(t.url);
    const s = new PostgresCaStore(db);
    await s.writeMeta('root_fingerprint', 'sha256:MINE');
    await s.assertIntact();
    await db.query("UPDATE ca_meta SET value = 'sha256:THEIRS' WHERE key = 'root_fingerprint'");
    await s.assertIntact(); // still the answer of a moment ago
    await sleep(INTACT_CACHE_MS);
    const changed = await s.assertIntact().then(
      () => null,
      (e: unknown) => e,
    );
    expect(changed).toBeInstanceOf(CaError);
    expect(changed).toMatchObject({ code: 'storage' });
    expect((changed as Error).message).toContain(`the database at ${db.location} no longer holds this CA (root sha256:MINE; it now holds root sha256:THEIRS)`);

    await db.query("DELETE FROM ca_meta WHERE key = 'root_fingerprint'");
    await expect(s.assertIntact()).rejects.toBe(changed); // cached: the same answer within the second
    await sleep(INTACT_CACHE_MS);
    await expect(s.assertIntact()).rejects.toMatchObject({ code: 'storage', message: expect.stringContaining('its CA records are gone') });

    // the database restored: intact again at the next look
    await db.query("INSERT INTO ca_meta (key, value) VALUES ('root_fingerprint', 'sha256:MINE')");
    await sleep(INTACT_CACHE_MS);
    await s.assertIntact();
  });

  it('an unreachable database is not reported as lost; calls fail as storage errors saying so, and work again when it is back', async () => {
    const t = await fresh();
    const r = await relay(new URL(t.url));
    const db = await pool(r.url, { connectTimeoutMs: 500 });
    const s = new PostgresCaStore(db);
    await s.writeMeta('root_fingerprint', 'sha256:MINE');
    await s.assertIntact();
    await r.down();
    await sleep(INTACT_CACHE_MS);
    await s.assertIntact(); // unreachable is not lost
    const e = await s.isBanned(`${TD}/agent/a`).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(CaError);
    expect(e).toMatchObject({ code: 'storage' });
    expect((e as Error).message).toMatch(/unreachable/);
    expect((e as Error).message).toContain('issuance and revocation resume when the database is back');
    await expect(s.revokeIdentity(`${TD}/agent/a`, 'r', 1)).rejects.toMatchObject({ code: 'storage' });

    await r.up();
    expect(await s.isBanned(`${TD}/agent/a`)).toBe(false);
    await s.assertIntact();
  });
});

describe('PostgreSQL CaStore: exclusive', () => {
  it('a database failure inside the section rejects with CaError("storage"), not the database layer’s error', async () => {
    const t = await fresh();
    const victim = await pool(t.url, { applicationName: 'tollgate-victim' });
    const admin = await pool(t.url, { max: 1 });
    const s = new PostgresCaStore(victim);
    const err = await s
      .exclusive(async (tx) => {
        await tx.readMeta('trust_domain');
        // the connection holding the section goes away (server restart, network cut)
        await admin.query("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = 'tollgate-victim'");
        return tx.readMeta('root_fingerprint');
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(CaError);
    expect(err).toMatchObject({ code: 'storage' });
    // the pool replaced the connection: the store works again
    expect(await s.readMeta('root_fingerprint')).toBeNull();
  });
});

describe('PostgreSQL CaStore: the revocation log under concurrent writers', () => {
  it('is gap-safe: a reader advancing its cursor to the last seq it saw collects the whole log', async () => {
    const t = await fresh();
    const writers = await Promise.all(Array.from({ length: 4 }, () => pool(t.url, { max: 8 })));
    const stores = writers.map((db) => new PostgresCaStore(db));
    const reader = new PostgresCaStore(await pool(t.url, { max: 2 }));

    // disjoint work per writer (no row conflicts, so no deadlocks whatever the locking): identities with
    // several certificates each (long transactions: one log insert per certificate) and single serials
    const IDS_PER_WRITER = 12;
    const CERTS_PER_ID = 8;
    const SERIALS_PER_WRITER = 60;
    const plan = stores.map((_, w) => {
      const ids = Array.from({ length: IDS_PER_WRITER }, (_, i) => `${TD}/agent/w${w}-id${i}`);
      const byId: NewIssued[] = ids.flatMap((spiffeId) =>
        Array.from({ length: CERTS_PER_ID }, () => ({
          serial: randomBytes(12).toString('hex'),
          spiffeId,
          kind: 'svid' as const,
          notBefore: 0,
          notAfter: 9e12,
          issuedAt: 1,
        })),
      );
      const singles: NewIssued[] = Array.from({ length: SERIALS_PER_WRITER }, (_, i) => ({
        serial: randomBytes(12).toString('hex'),
        spiffeId: `${TD}/agent/w${w}-single${i}`,
        kind: 'svid' as const,
        notBefore: 0,
        notAfter: 9e12,
        issuedAt: 1,
      }));
      return { ids, certs: [...byId, ...singles], singles };
    });
    await stores[0].recordIssuedMany(plan.flatMap((p) => p.certs));

    const collected: RevocationEvent[] = [];
    let writing = true;
    let reads = 0;
    const read = async () => {
      const cursor = collected.length > 0 ? collected[collected.length - 1].seq : 0;
      const events = await reader.revocationsSince(cursor);
      reads++;
      collected.push(...events);
    };
    const readerLoop = (async () => {
      while (writing) await read();
    })();

    await Promise.all(
      stores.map((s, w) => {
        const { ids, singles } = plan[w];
        // interleave: each identity revocation surrounded by single-serial revocations
        const calls: (() => Promise<unknown>)[] = [];
        for (let i = 0; i < Math.max(ids.length, singles.length); i++) {
          if (i < ids.length) calls.push(() => s.revokeIdentity(ids[i], 'sweep', 1));
          if (i < singles.length) calls.push(() => s.revokeSerial(singles[i].serial, 'one', 1));
        }
        return Promise.all(calls.map((c) => c()));
      }),
    );
    writing = false;
    await readerLoop;
    await read(); // the tail written after the loop's last look

    const whole = await reader.revocationsSince(0);
    const expected = 4 * (IDS_PER_WRITER * (CERTS_PER_ID + 1) + SERIALS_PER_WRITER);
    expect(whole).toHaveLength(expected);
    expect(reads).toBeGreaterThan(5); // the reader really read while the writers wrote
    const seen = new Set(collected.map((e) => e.seq));
    const missed = whole.filter((e) => !seen.has(e.seq)).map((e) => e.seq);
    expect(missed).toEqual([]);
    expect(collected).toEqual(whole);
  });
});
