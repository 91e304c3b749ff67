import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { Config } from '../../config/schema.js';
import { openSqliteSettingsStore, type SettingsStore } from '../../control/admin/settings-store.js';
import { postgresSettingsStore } from '../../control/admin/postgres-settings.js';
import { startSettingsSync, type SettingsSync } from '../../gateway/settings-sync.js';
import { postgresPerTest } from '../pg.js';
import { baseConfig, tempDir, TD } from '../admin/harness.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const silent = { info() {}, warn() {}, error() {} };
const pg = postgresPerTest({ max: 2 });
const rule = (to: string) => [{ from: `spiffe://${TD}/agent/researcher`, to: [to], methods: ['message/send'] }];

function setup(pollMs = 0) {
  const dir = tempDir('tollgate-sync-');
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const open = (): SettingsStore => {
    const s = openSqliteSettingsStore(dir);
    cleanup.push(() => s.close());
    return s;
  };
  const mine = open();
  const other = open(); // another process (replica) writing to the same store
  const applied: { config: Config; actor: string }[] = [];
  const polls: boolean[] = [];
  const sync: SettingsSync = startSettingsSync({
    store: mine,
    fileConfig: baseConfig(),
    versions: { agents: 0, policy: 0, limits: 0 },
    apply: (config, actor) => applied.push({ config, actor }),
    log: silent,
    pollMs,
    onPoll: (ok) => polls.push(ok),
    now: Date.now,
  });
  cleanup.push(() => sync.close());
  return { mine, other, applied, polls, sync };
}

describe('settings sync (another replica writes to the shared store)', () => {
  it('applies a section another process saved, laid over this process file config', async () => {
    const { other, applied, sync } = setup();
    await other.put('policy', rule('writer'), 0, { actor: 'other' });
    expect(await sync.sync()).toEqual({ agents: 0, policy: 1, limits: 0 });
    expect(applied).toHaveLength(1);
    expect(applied[0].actor).toBe('store');
    expect(applied[0].config.policy).toEqual([{ from: `spiffe://${TD}/agent/researcher`, to: ['writer'], methods: ['message/send'] }]);
    expect(applied[0].config.rateLimits).toEqual(baseConfig().rateLimits); // the file's own section stays
    // nothing new: nothing applied
    await sync.sync();
    expect(applied).toHaveLength(1);
  });

  it('does not apply again what this process wrote itself', async () => {
    const { mine, applied, sync } = setup();
    const v = await mine.put('policy', rule('writer'), 0);
    sync.written('policy', v);
    expect(await sync.sync()).toMatchObject({ policy: 1 });
    expect(applied).toHaveLength(0);
    expect(sync.applied()).toMatchObject({ policy: 1 });
  });

  it('keeps the running config when a saved section does not fit this file, and says so on every sync', async () => {
    const { other, applied, sync } = setup();
    await other.put('policy', rule('nobody'), 0);
    await expect(sync.sync()).rejects.toThrow(/unknown agent "nobody"/);
    await expect(sync.sync()).rejects.toThrow(/unknown agent "nobody"/);
    expect(applied).toHaveLength(0);
    expect(sync.applied()).toEqual({ agents: 0, policy: 0, limits: 0 });
  });

  it('polls on its own, reports each poll, and a reload overlays the store on the new file', async () => {
    const { other, applied, polls, sync } = setup(20);
    await other.put('limits', { rateLimits: {}, delegation: { maxDepth: 2 } }, 0);
    const deadline = Date.now() + 3000;
    while (applied.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(applied[0]?.config.delegation.maxDepth).toBe(2);
    expect(polls).toContain(true);
    const next = await sync.reload(baseConfig({ audit: { path: '-' } }));
    expect(next.delegation.maxDepth).toBe(2); // the saved section still wins over the new file
    expect(applied[applied.length - 1].actor).toBe('reload');
  });

  it('a section that does not fit is not an outage: the polls still report the store up', async () => {
    const { other, applied, polls } = setup(20);
    await other.put('policy', rule('nobody'), 0);
    const deadline = Date.now() + 3000;
    while (polls.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(polls.length).toBeGreaterThanOrEqual(3);
    expect(polls.every((ok) => ok)).toBe(true);
    expect(applied).toHaveLength(0);
  });

  it('on PostgreSQL, applies another replica’s write as the database announces it, with no poll (pollMs 0)', async () => {
    const t = await pg.fresh();
    const mine = postgresSettingsStore(await pg.pool(t.url));
    const other = postgresSettingsStore(await pg.pool(t.url));
    const applied: Config[] = [];
    const sync = startSettingsSync({
      store: mine,
      fileConfig: baseConfig(),
      versions: { agents: 0, policy: 0, limits: 0 },
      apply: (config) => applied.push(config),
      log: silent,
      pollMs: 0,
      now: Date.now,
    });
    cleanup.push(() => sync.close());
    await new Promise((r) => setTimeout(r, 200)); // the feed connected (and read the nothing there is)
    await other.put('policy', rule('writer'), 0, { actor: 'other' });
    const deadline = Date.now() + 2000;
    while (applied.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(applied.at(-1)?.policy, 'applied within 2 s, without a poll').toEqual([
      { from: `spiffe://${TD}/agent/researcher`, to: ['writer'], methods: ['message/send'] },
    ]);
    expect(sync.applied()).toMatchObject({ policy: 1 });
  });
});
