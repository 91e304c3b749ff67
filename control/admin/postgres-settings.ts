/**
 * SettingsStore on the fleet's PostgreSQL database (table `settings`, database/migrations.ts). The version
 * check and the write are one statement: `UPDATE ... WHERE version = expected` (or an INSERT that only
 * succeeds when no row exists), so two replicas writing on the same version cannot both win.
 */
import { DatabaseError } from '../../database/errors.js';
import type { PostgresDatabase } from '../../database/postgres.js';
import { AdminError } from './errors.js';
import { checkPut, staleVersion, storedFromRow, type SettingsRow, type SettingsSection, type SettingsStore } from './settings-store.js';

/** `db` is owned by the caller: close() here does not end its pool. */
export function postgresSettingsStore(db: PostgresDatabase, opts: { now?: () => number } = {}): SettingsStore {
  const now = opts.now ?? Date.now;
  const storage = (what: string, cause: unknown) => {
    if (cause instanceof AdminError) return cause;
    const down = cause instanceof DatabaseError && cause.code === 'unavailable';
    return new AdminError('storage', `settings store: ${what} failed${down ? ': the database is unreachable' : ''}`, { cause });
  };

  return {
    watch: (fn) => db.onChange('settings', fn),
    async get(section) {
      let row: SettingsRow | undefined;
      try {
        row = (await db.query<SettingsRow>('SELECT value, version, updated_at, updated_by FROM settings WHERE section = $1', [section])).rows[0];
      } catch (cause) {
        throw storage(`reading ${section}`, cause);
      }
      if (!row) return undefined;
      return storedFromRow(section, row);
    },
    async versions() {
      const out: Record<SettingsSection, number> = { agents: 0, policy: 0, limits: 0 };
      try {
        const { rows } = await db.query<{ section: string; version: number }>('SELECT section, version FROM settings');
        for (const r of rows) if (r.section in out) out[r.section as SettingsSection] = r.version;
      } catch (cause) {
        throw storage('reading versions', cause);
      }
      return out;
    },
    async put(section, value, expectedVersion, meta = {}) {
      checkPut(section, expectedVersion);
      const json = JSON.stringify(value);
      const at = meta.now ?? now();
      const by = meta.actor ?? '';
      try {
        const r =
          expectedVersion === 0
            ? await db.query(
                'INSERT INTO settings (section, value, version, updated_at, updated_by) VALUES ($1, $2, 1, $3, $4) ON CONFLICT (section) DO NOTHING',
                [section, json, at, by],
              )
            : await db.query('UPDATE settings SET value = $1, version = version + 1, updated_at = $2, updated_by = $3 WHERE section = $4 AND version = $5', [
                json,
                at,
                by,
                section,
                expectedVersion,
              ]);
        if (r.rowCount === 1) return expectedVersion + 1;
        const current = await db.query<{ version: number }>('SELECT version FROM settings WHERE section = $1', [section]);
        throw staleVersion(section, expectedVersion, current.rows[0]?.version ?? 0);
      } catch (cause) {
        throw storage(`writing ${section}`, cause);
      }
    },
    close() {
      return Promise.resolve(); // the pool belongs to whoever opened the database
    },
  };
}
