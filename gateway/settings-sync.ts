/**
 * Keeps the running config equal to "config file + sections saved through the admin API", when the store
 * changes under it: another replica's admin write (PostgreSQL), or another process on the same data dir.
 * A poll reads the section versions (one small query) every `pollMs`, and at once when the store announces a
 * write (PostgreSQL's change feed, database/change-feed.ts); when one moved, the sections are
 * read again, laid over the last file config and applied like an admin write. An admin write of this
 * process syncs first (so it edits the latest config) and tells the sync what it wrote (no re-apply).
 *
 * A stored section that no longer fits this replica's config file is not applied: the running config stays,
 * the failure is logged once per version and retried at the next change.
 */
import type { Config } from '../config/schema.js';
import { AdminError, overlaySettings, SETTINGS_SECTIONS, type SectionVersions, type SettingsSection, type SettingsStore } from '../control/admin/index.js';
import type { GatewayLog } from '../control/gateway.js';

export interface SettingsSyncOptions {
  store: SettingsStore;
  /** the config file as last read (the base the sections are laid over) */
  fileConfig: Config;
  /** the versions the starting config was built from */
  versions: SectionVersions;
  apply(next: Config, actor: string): void;
  log: GatewayLog;
  /** poll period, ms (0: no timer; sync() only) */
  pollMs: number;
  /** called after every poll: whether the store answered, and when */
  onPoll?(ok: boolean, at: number, err?: unknown): void;
  now: () => number;
}

export interface SettingsSync {
  /** bring the running config up to the store; resolves with the versions it is built from */
  sync(): Promise<SectionVersions>;
  /** this process wrote `section` at `version` (and applied it already) */
  written(section: SettingsSection, version: number): void;
  /** the versions the running config was built from (no store access) */
  applied(): SectionVersions;
  /** the config file as last read (what a reset section goes back to) */
  fileConfig(): Config;
  /** a new file config (SIGHUP): overlay the store on it and apply; rejects (nothing applied) when it does not fit */
  reload(fileConfig: Config): Promise<Config>;
  close(): void;
}

const same = (a: SectionVersions, b: SectionVersions) => SETTINGS_SECTIONS.every((s) => a[s] === b[s]);

export function startSettingsSync(o: SettingsSyncOptions): SettingsSync {
  let file = o.fileConfig;
  let applied: SectionVersions = { ...o.versions };
  let inFlight: Promise<SectionVersions> | undefined;
  let refusedAt: SectionVersions | undefined;

  const syncOnce = async (): Promise<SectionVersions> => {
    const stored = await o.store.versions();
    if (same(stored, applied)) return applied;
    let next;
    try {
      next = await overlaySettings(file, o.store);
    } catch (err) {
      if (!refusedAt || !same(refusedAt, stored)) {
        refusedAt = stored;
        o.log.error({ err, versions: stored }, 'settings saved by another process do not fit this config file; the running config stays');
      }
      throw err;
    }
    o.apply(next.config, 'store');
    applied = next.versions;
    return applied;
  };

  const sync = (): Promise<SectionVersions> => {
    // one read at a time: callers arriving meanwhile share it
    inFlight ??= syncOnce().finally(() => (inFlight = undefined));
    return inFlight;
  };

  const poll = (): void => {
    sync().then(
      () => o.onPoll?.(true, o.now()),
      // the store answered with settings that do not fit this file: it is up (that failure is logged above)
      (err: unknown) => o.onPoll?.(!(err instanceof AdminError && err.code === 'storage'), o.now(), err),
    );
  };
  const timer = o.pollMs > 0 ? setInterval(poll, o.pollMs) : undefined;
  timer?.unref();
  // another process's write, announced (PostgreSQL): read now, not at the next poll. A read already in
  // flight may have started before that write committed, so the new one starts after it.
  const unwatch = o.store.watch?.(() => {
    if (inFlight) void inFlight.catch(() => undefined).then(poll);
    else poll();
  });

  return {
    sync,
    applied: () => applied,
    fileConfig: () => file,
    written(section, version) {
      applied = { ...applied, [section]: version };
    },
    async reload(fileConfig) {
      const next = await overlaySettings(fileConfig, o.store);
      o.apply(next.config, 'reload');
      file = fileConfig;
      applied = next.versions;
      return next.config;
    },
    close() {
      if (timer) clearInterval(timer);
      unwatch?.();
    },
  };
}
