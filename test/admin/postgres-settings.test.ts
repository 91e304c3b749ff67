import { postgresSettingsStore } from '../../control/admin/postgres-settings.js';
import { settingsStoreContract } from '../contracts/settings-store.js';
import { postgresPerTest } from '../pg.js';

const { fresh, pool } = postgresPerTest({ max: 3 });

settingsStoreContract('PostgreSQL', async () => {
  const t = await fresh();
  const db = await pool(t.url);
  return {
    store: postgresSettingsStore(db, { now: () => 1234 }),
    reopen: async () => postgresSettingsStore(await pool(t.url)),
    // a stopped database, as this store sees it: its pool is gone
    breakIt: () => db.close(),
  };
});
