/** The CaStore contract (test/contracts/ca-store.ts) on PostgreSQL; what only PostgreSQL has is in store-postgres-fleet.test.ts. */
import { afterEach } from 'vitest';
import { PostgresCaStore } from '../../ca/store/postgres.js';
import { openPostgres, type PostgresDatabase } from '../../database/postgres.js';
import { caStoreContract } from '../contracts/ca-store.js';
import { createTestDatabase, type TestDatabase } from '../pg.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function fresh(): Promise<TestDatabase> {
  const t = await createTestDatabase();
  cleanup.push(() => t.drop());
  return t;
}

async function pool(url: string, opts: Parameters<typeof openPostgres>[1] = {}): Promise<PostgresDatabase> {
  const db = await openPostgres(url, { max: 10, ...opts });
  cleanup.push(() => db.close());
  return db;
}

/** the store checks the database's root at most once a second */
const INTACT_CACHE_MS = 1100;

caStoreContract('PostgreSQL', async () => {
  const t = await fresh();
  const db = await pool(t.url);
  const admin = await pool(t.url, { max: 1 });
  return {
    store: new PostgresCaStore(db),
    // another replica: its own pool on the same database
    reopen: async () => new PostgresCaStore(await pool(t.url)),
    tokenSerial: async (hash: string) =>
      (await admin.query<{ serial: string | null }>('SELECT serial FROM join_tokens WHERE hash = $1', [hash])).rows[0]?.serial,
    breakIt: () => db.close(),
    loseIt: async () => {
      await admin.query("UPDATE ca_meta SET value = 'sha256:ANOTHER-CA' WHERE key = 'root_fingerprint'");
    },
    intactCacheMs: INTACT_CACHE_MS,
  };
});
