/**
 * Where the durable state lives, chosen once at start: SQLite files in the data dir (the embedded default),
 * or one PostgreSQL database shared by every replica of a fleet (`store: postgres://...`). The cores see
 * the same small interfaces either way (CaStore, SettingsStore, the delegation key ring).
 */
import { CaKeyFiles } from '../ca/keys/file-store.js';
import { assertStorePresent } from '../ca/ca-state.js';
import type { CaStore } from '../ca/store/types.js';
import { openSqliteSettingsStore, type SettingsStore } from '../control/admin/index.js';
import type { GatewayLog } from '../control/gateway-identity.js';
import type { PostgresDatabase } from '../database/postgres.js';

export interface Stores {
  kind: 'sqlite' | 'postgres';
  /** the data dir's database file, or the URL without its password */
  location: string;
  settings: SettingsStore;
  /** the CA's store; undefined = the CA opens SQLite in the data dir itself */
  ca?: CaStore;
  /** the shared database (postgres only) */
  db?: PostgresDatabase;
  close(): Promise<void>;
}

export async function openStores(o: { store?: string; dataDir: string; recreateStore?: boolean; log: GatewayLog }): Promise<Stores> {
  if (o.store === undefined) {
    const files = new CaKeyFiles(o.dataDir);
    // before the settings store opens (and so creates) tollgate.db: a CA whose database vanished is refused
    assertStorePresent(files, o.recreateStore === true);
    const settings = openSqliteSettingsStore(o.dataDir);
    return { kind: 'sqlite', location: files.dbFile, settings, close: () => settings.close() };
  }
  // loaded only for a fleet: the embedded default never loads the pg driver (idle memory, docs/performance.md)
  const [{ openPostgres }, { PostgresCaStore }, { postgresSettingsStore }] = await Promise.all([
    import('../database/postgres.js'),
    import('../ca/store/postgres.js'),
    import('../control/admin/postgres-settings.js'),
  ]);
  const db = await openPostgres(o.store, {
    onIdleError: (err) => o.log.warn({ err }, 'a pooled database connection failed; it is replaced on next use'),
    onChangeFeedError: (err) => o.log.warn({ err }, "the database's change feed failed; other replicas' writes are seen at the next poll until it reconnects"),
  });
  return {
    kind: 'postgres',
    location: db.location,
    db,
    settings: postgresSettingsStore(db),
    ca: new PostgresCaStore(db),
    close: () => db.close(),
  };
}
