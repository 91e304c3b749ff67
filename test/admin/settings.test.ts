import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { openSqliteSettingsStore, settingsDbPath, type SettingsStore } from '../../control/admin/settings-store.js';
import { settingsStoreContract } from '../contracts/settings-store.js';
import { tempDir } from './harness.js';

const dirs: string[] = [];
const stores: SettingsStore[] = [];
function open(dir = tempDir('tollgate-settings-')) {
  dirs.push(dir);
  const s = openSqliteSettingsStore(dir, { now: () => 1234 });
  stores.push(s);
  return { dir, s };
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

settingsStoreContract('SQLite', () => {
  const { dir, s } = open();
  return Promise.resolve({
    store: s,
    reopen: () => Promise.resolve(open(dir).s),
    breakIt: () => s.close(),
  });
});

describe('sqlite settings store', () => {
  it('keeps its own table in <dataDir>/tollgate.db (WAL, 0600) next to other tables, and survives reopening', async () => {
    const { dir, s } = open();
    const other = new Database(settingsDbPath(dir));
    other.exec('CREATE TABLE IF NOT EXISTS ca_things (x INTEGER)');
    other.close();
    await s.put('agents', { writer: { url: 'https://a' } }, 0, { actor: 'me' });
    await s.close();
    expect(fs.statSync(settingsDbPath(dir)).mode & 0o777).toBe(0o600);
    const again = openSqliteSettingsStore(dir);
    stores.push(again);
    expect(await again.get('agents')).toMatchObject({ value: { writer: { url: 'https://a' } }, version: 1, updatedBy: 'me' });
    const db = new Database(settingsDbPath(dir), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all()).toEqual([{ name: 'ca_things' }, { name: 'settings' }]);
    db.close();
  });
});
