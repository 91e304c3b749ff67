import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { openSqliteSettingsStore, settingsDbPath, type SettingsStore } from '../../control/admin/settings-store.js';
import { overlaySettings } from '../../control/admin/overlay.js';
import { AdminError } from '../../control/admin/errors.js';
import { ConfigError } from '../../config/load.js';
import { baseConfig, tempDir, TD } from './harness.js';

const dirs: string[] = [];
const stores: SettingsStore[] = [];
function open(dir = tempDir('tollgate-settings-')) {
  dirs.push(dir);
  const s = openSqliteSettingsStore(dir, { now: () => 1234 });
  stores.push(s);
  return { dir, s };
}

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('sqlite settings store', () => {
  it('versions each section and refuses a stale write', () => {
    const { s } = open();
    expect(s.get('policy')).toBeUndefined();
    expect(s.put('policy', [{ from: 'a' }], 0, { actor: 'spiffe://x/admin' })).toBe(1);
    expect(s.put('policy', [], 1)).toBe(2);
    expect(() => s.put('policy', ['late'], 1)).toThrow(AdminError);
    try {
      s.put('policy', ['late'], 1);
    } catch (e) {
      expect((e as AdminError).code).toBe('version_conflict');
      expect((e as AdminError).message).toContain('current version 2');
    }
    expect(s.get('policy')).toEqual({ value: [], version: 2, updatedAt: 1234, updatedBy: '' });
    // sections are independent
    expect(s.put('agents', {}, 0)).toBe(1);
    expect(() => s.put('limits', {}, 3)).toThrow(/changed since version 3/);
  });

  it('keeps its own table in <dataDir>/tollgate.db (WAL, 0600) next to other tables, and survives reopening', () => {
    const { dir, s } = open();
    const other = new Database(settingsDbPath(dir));
    other.exec('CREATE TABLE IF NOT EXISTS ca_things (x INTEGER)');
    other.close();
    s.put('agents', { writer: { url: 'https://a' } }, 0, { actor: 'me' });
    s.close();
    expect(fs.statSync(settingsDbPath(dir)).mode & 0o777).toBe(0o600);
    const again = openSqliteSettingsStore(dir);
    stores.push(again);
    expect(again.get('agents')).toMatchObject({ value: { writer: { url: 'https://a' } }, version: 1, updatedBy: 'me' });
    const db = new Database(settingsDbPath(dir), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all()).toEqual([{ name: 'ca_things' }, { name: 'settings' }]);
    db.close();
  });

  it('rejects bad versions and reports storage failures as storage errors', () => {
    const { s } = open();
    expect(() => s.put('policy', [], -1)).toThrow(/whole number/);
    s.close();
    expect(() => s.get('policy')).toThrow(expect.objectContaining({ code: 'storage' }));
  });
});

describe('overlaySettings', () => {
  it('returns the file config untouched when nothing was saved', () => {
    const { s } = open();
    const file = baseConfig();
    expect(overlaySettings(file, s)).toBe(file);
  });

  it('replaces whole sections: limits covers rateLimits and delegation; other keys stay from the file', () => {
    const { s } = open();
    const file = baseConfig();
    s.put('limits', { rateLimits: {}, delegation: { maxDepth: 3 } }, 0);
    const out = overlaySettings(file, s);
    expect(out.rateLimits).toEqual({});
    expect(out.delegation.maxDepth).toBe(3);
    expect(out.delegation.tokenTtl).toBe(15 * 60_000); // schema default filled in again
    expect(out.agents).toEqual(file.agents);
    expect(out.admins).toEqual(file.admins);
  });

  it('refuses to start on an overlay that no longer fits the file, naming the field', () => {
    const { s } = open();
    s.put('policy', [{ from: `spiffe://${TD}/agent/writer`, to: ['researcher'] }], 0, { actor: 'spiffe://x/admin/ops' });
    const file = baseConfig({ agents: { writer: { url: 'https://127.0.0.1:9002', id: `spiffe://${TD}/agent/writer` } }, policy: [] });
    expect(() => overlaySettings(file, s)).toThrow(ConfigError);
    expect(() => overlaySettings(file, s)).toThrow(/policy\.0\.to\.0: unknown agent "researcher"/);
  });
});
