/**
 * Config sections changed through the admin API, persisted so they survive a restart. Each section has a
 * version (0 = never set here) for optimistic concurrency: a write names the version it was based on and is
 * refused when another write came first.
 *
 * Sections: 'agents' (the whole registry, name -> agent), 'policy' (the rule list), 'limits'
 * ({ rateLimits, delegation }). Values are the parsed config shapes (durations in ms), which the config
 * schema accepts again unchanged.
 */
import { mkdirSync, chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AdminError } from './errors.js';

export const SETTINGS_SECTIONS = ['agents', 'policy', 'limits'] as const;
export type SettingsSection = (typeof SETTINGS_SECTIONS)[number];

export interface StoredSetting {
  value: unknown;
  version: number;
  updatedAt: number;
  updatedBy: string;
}

/**
 * Two implementations: SQLite in the data dir (below) and PostgreSQL for a fleet (postgres-settings.ts);
 * the same contract tests run against both. Every call is asynchronous; the running config is an
 * in-memory copy, so nothing on a request path waits for the store.
 */
export interface SettingsStore {
  /** undefined when the section was never set through the admin API (its version is 0) */
  get(section: SettingsSection): Promise<StoredSetting | undefined>;
  /** every section's version (0 = never set): what a replica polls to notice another replica's write */
  versions(): Promise<Record<SettingsSection, number>>;
  /**
   * Write `value` if the section's current version is `expectedVersion`; returns the new version.
   * Rejects with AdminError('version_conflict') otherwise, AdminError('storage') when the store fails.
   */
  put(section: SettingsSection, value: unknown, expectedVersion: number, meta?: { actor?: string; now?: number }): Promise<number>;
  /** a store other processes write to and that says so (PostgreSQL): run `fn` after each write; returns its removal */
  watch?(fn: () => void): () => void;
  close(): Promise<void>;
}

export async function versionOf(store: SettingsStore, section: SettingsSection): Promise<number> {
  return (await store.get(section))?.version ?? 0;
}

/** Check put's arguments (both stores). */
export function checkPut(section: SettingsSection, expectedVersion: number): void {
  if (!SETTINGS_SECTIONS.includes(section)) throw new AdminError('invalid_argument', `unknown settings section "${section}"`);
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new AdminError('invalid_argument', `version must be a whole number >= 0, got ${expectedVersion}`);
  }
}

/** A stored section's JSON text, parsed (both stores). */
function parseStored(section: SettingsSection, json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch (cause) {
    throw new AdminError('storage', `settings store: the saved ${section} is not valid JSON`, { cause });
  }
}

export function staleVersion(section: SettingsSection, expected: number, current: number): AdminError {
  return new AdminError(
    'version_conflict',
    `${section} changed since version ${expected} (current version ${current}): read it again, re-apply your change and send version ${current}`,
  );
}

/** The shared state database in the data dir (the CA keeps its own tables in the same file). */
export function settingsDbPath(dataDir: string): string {
  return path.join(dataDir, 'tollgate.db');
}

/** A `settings` row as both stores read it (the same columns in SQLite and PostgreSQL). */
export interface SettingsRow {
  value: string;
  version: number;
  updated_at: number;
  updated_by: string;
}

export function storedFromRow(section: SettingsSection, row: SettingsRow): StoredSetting {
  return { value: parseStored(section, row.value), version: row.version, updatedAt: row.updated_at, updatedBy: row.updated_by };
}

/** better-sqlite3 implementation on `<dataDir>/tollgate.db`, table `settings`, WAL. */
export function openSqliteSettingsStore(dataDir: string, opts: { now?: () => number } = {}): SettingsStore {
  const now = opts.now ?? Date.now;
  const file = settingsDbPath(dataDir);
  let db: Database.Database;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const created = !existsSync(file);
    db = new Database(file);
    if (created) chmodSync(file, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec(`CREATE TABLE IF NOT EXISTS settings (
      section    TEXT PRIMARY KEY,
      value      TEXT NOT NULL,
      version    INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      updated_by TEXT NOT NULL
    )`);
  } catch (cause) {
    throw new AdminError('storage', `cannot open the settings store ${file}`, { cause });
  }
  const select = db.prepare<[string], SettingsRow>('SELECT value, version, updated_at, updated_by FROM settings WHERE section = ?');
  const insert = db.prepare('INSERT INTO settings (section, value, version, updated_at, updated_by) VALUES (?, ?, 1, ?, ?)');
  const update = db.prepare('UPDATE settings SET value = ?, version = version + 1, updated_at = ?, updated_by = ? WHERE section = ? AND version = ?');

  // The version check and the write happen in one IMMEDIATE transaction: another process on the same file
  // (a second gateway, `tollgate` offline commands) cannot slip a write in between.
  const put = db.transaction((section: SettingsSection, json: string, expected: number, at: number, by: string): number => {
    const row = select.get(section);
    const current = row?.version ?? 0;
    if (current !== expected) throw staleVersion(section, expected, current);
    if (row) update.run(json, at, by, section, expected);
    else insert.run(section, json, at, by);
    return current + 1;
  });

  const storage = (what: string, cause: unknown) =>
    cause instanceof AdminError ? cause : new AdminError('storage', `settings store: ${what} failed`, { cause });

  const all = db.prepare<[], { section: SettingsSection; version: number }>('SELECT section, version FROM settings');

  // better-sqlite3 is synchronous: each call runs now and settles its promise (a throw becomes a rejection)
  /* eslint-disable @typescript-eslint/require-await */
  return {
    async get(section) {
      let row: SettingsRow | undefined;
      try {
        row = select.get(section);
      } catch (cause) {
        throw storage(`reading ${section}`, cause);
      }
      if (!row) return undefined;
      return storedFromRow(section, row);
    },
    async versions() {
      const out: Record<SettingsSection, number> = { agents: 0, policy: 0, limits: 0 };
      try {
        for (const r of all.all()) if (r.section in out) out[r.section] = r.version;
      } catch (cause) {
        throw storage('reading versions', cause);
      }
      return out;
    },
    async put(section, value, expectedVersion, meta = {}) {
      checkPut(section, expectedVersion);
      try {
        return put.immediate(section, JSON.stringify(value), expectedVersion, meta.now ?? now(), meta.actor ?? '');
      } catch (cause) {
        throw storage(`writing ${section}`, cause);
      }
    },
    async close() {
      if (db.open) db.close();
    },
  };
  /* eslint-enable @typescript-eslint/require-await */
}
