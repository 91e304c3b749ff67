import { afterEach } from 'vitest';
import { openPostgres, type PostgresDatabase } from '../../database/postgres.js';
import { postgresSettingsStore } from '../../control/admin/postgres-settings.js';
import { settingsStoreContract } from '../contracts/settings-store.js';
import { createTestDatabase } from '../pg.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

settingsStoreContract('PostgreSQL', async () => {
  const t = await createTestDatabase();
  cleanup.push(() => t.drop());
  const open = async (): Promise<PostgresDatabase> => {
    const db = await openPostgres(t.url, { max: 3 });
    cleanup.push(() => db.close());
    return db;
  };
  const db = await open();
  return {
    store: postgresSettingsStore(db, { now: () => 1234 }),
    reopen: async () => postgresSettingsStore(await open()),
    // a stopped database, as this store sees it: its pool is gone
    breakIt: () => db.close(),
  };
});
