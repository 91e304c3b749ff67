/**
 * The SettingsStore contract, run against every implementation (SQLite in a data dir, PostgreSQL): each
 * implementation's test file calls settingsStoreContract with a way to open a fresh, empty store and a
 * second handle on the same store (another process or replica).
 */
import { describe, expect, it } from 'vitest';
import type { SettingsStore } from '../../control/admin/settings-store.js';
import { overlaySettings } from '../../control/admin/overlay.js';
import { ConfigError } from '../../config/load.js';
import { baseConfig, TD } from '../admin/harness.js';

export interface SettingsStoreFixture {
  /** a fresh empty store whose clock reads 1234 */
  store: SettingsStore;
  /** another handle on the same state, as a second process would open it */
  reopen(): Promise<SettingsStore>;
  /** make the store fail every call from now on (closed connection, stopped database) */
  breakIt(): Promise<void>;
}

export function settingsStoreContract(name: string, open: () => Promise<SettingsStoreFixture>): void {
  describe(`SettingsStore contract: ${name}`, () => {
    it('versions each section and refuses a stale write with a conflict naming the current version', async () => {
      const { store: s } = await open();
      expect(await s.get('policy')).toBeUndefined();
      expect(await s.versions()).toEqual({ agents: 0, policy: 0, limits: 0 });
      expect(await s.put('policy', [{ from: 'a' }], 0, { actor: 'spiffe://x/admin' })).toBe(1);
      expect(await s.put('policy', [], 1)).toBe(2);
      await expect(s.put('policy', ['late'], 1)).rejects.toMatchObject({ code: 'version_conflict', message: expect.stringContaining('current version 2') });
      expect(await s.get('policy')).toEqual({ value: [], version: 2, updatedAt: 1234, updatedBy: '' });
      // sections are independent
      expect(await s.put('agents', {}, 0)).toBe(1);
      await expect(s.put('limits', {}, 3)).rejects.toThrow(/changed since version 3/);
      expect(await s.versions()).toEqual({ agents: 1, policy: 2, limits: 0 });
    });

    it('a write made through one handle is read through another, and the version check spans both', async () => {
      const f = await open();
      const other = await f.reopen();
      await f.store.put('agents', { writer: { url: 'https://a' } }, 0, { actor: 'me' });
      expect(await other.get('agents')).toMatchObject({ value: { writer: { url: 'https://a' } }, version: 1, updatedBy: 'me' });
      expect((await other.versions()).agents).toBe(1);
      await expect(other.put('agents', {}, 0)).rejects.toMatchObject({ code: 'version_conflict' });
      await other.close();
    });

    it('of many concurrent writers on the same version exactly one wins', async () => {
      const f = await open();
      const other = await f.reopen();
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : f.store).put('policy', [i], 0)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'version_conflict' });
      expect((await f.store.get('policy'))?.version).toBe(1);
      await other.close();
    });

    it('rejects bad versions and reports storage failures as storage errors', async () => {
      const f = await open();
      await expect(f.store.put('policy', [], -1)).rejects.toThrow(/whole number/);
      await f.breakIt();
      await expect(f.store.get('policy')).rejects.toMatchObject({ code: 'storage' });
      await expect(f.store.put('policy', [], 0)).rejects.toMatchObject({ code: 'storage' });
    });

    it('overlay: the file config untouched when nothing was saved', async () => {
      const { store } = await open();
      const file = baseConfig();
      expect(await overlaySettings(file, store)).toEqual({ config: file, versions: { agents: 0, policy: 0, limits: 0 } });
    });

    it('overlay: whole sections replace the file; limits covers rateLimits and delegation; other keys stay', async () => {
      const { store } = await open();
      const file = baseConfig();
      await store.put('limits', { rateLimits: {}, delegation: { maxDepth: 3 } }, 0);
      const { config: out, versions } = await overlaySettings(file, store);
      expect(versions.limits).toBe(1);
      expect(out.rateLimits).toEqual({});
      expect(out.delegation.maxDepth).toBe(3);
      expect(out.delegation.tokenTtl).toBe(15 * 60_000); // schema default filled in again
      expect(out.agents).toEqual(file.agents);
      expect(out.admins).toEqual(file.admins);
    });

    it('overlay: refuses an overlay that no longer fits the file, naming the field', async () => {
      const { store } = await open();
      await store.put('policy', [{ from: `spiffe://${TD}/agent/writer`, to: ['researcher'] }], 0, { actor: 'spiffe://x/admin/ops' });
      const file = baseConfig({ agents: { writer: { url: 'https://127.0.0.1:9002', id: `spiffe://${TD}/agent/writer` } }, policy: [] });
      await expect(overlaySettings(file, store)).rejects.toThrow(ConfigError);
      await expect(overlaySettings(file, store)).rejects.toThrow(/policy\.0\.to\.0: unknown agent "researcher"/);
    });
  });
}
