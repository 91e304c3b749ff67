/** The CaStore contract (test/contracts/ca-store.ts) on PostgreSQL; what only PostgreSQL has is in store-postgres-fleet.test.ts. */

import { PostgresCaStore } from '../../ca/store/postgres.js';
import { caStoreContract } from '../contracts/ca-store.js';
import { postgresPerTest } from '../pg.js';

const { fresh, pool } = postgresPerTest({ max: 10 });

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
