/** openAuthority options: defaults and the checks that keep lifetimes consistent. */
import { CaError, type CaEvents } from './api.js';
import type { CaStore } from './store/types.js';
import { parseTrustDomain } from '../certs/spiffe-id.js';

export interface AuthorityOptions {
  dataDir: string;
  trustDomain: string;
  /** root CA lifetime; default 365 days */
  rootTtlMs?: number;
  /** online intermediate lifetime; default 7 days */
  intermediateTtlMs?: number;
  /** SVID lifetime; default 1 hour (capped at the signing intermediate's end) */
  svidTtlMs?: number;
  /** default join token lifetime; default 10 minutes */
  tokenTtlMs?: number;
  /** clock, ms since epoch; default Date.now */
  now?: () => number;
  events?: CaEvents;
  /** how often revocations written by other processes (and the database file itself) are checked; default 500 ms */
  revocationRefreshMs?: number;
  /**
   * open a CA whose keys exist although its database is missing or new, starting it over with an empty
   * store (`--recreate-store`); without it that is refused, so revocations cannot vanish silently
   */
  recreateStore?: boolean;
  /**
   * The store holding tokens, certificates and revocations (a PostgreSQL store shared by a fleet). Default:
   * SQLite in `dataDir`. The authority closes it with itself.
   */
  store?: CaStore;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const MAX_TOKEN_TTL_MS = 30 * DAY;

export interface ResolvedOptions {
  dataDir: string;
  trustDomain: string;
  rootTtlMs: number;
  intermediateTtlMs: number;
  svidTtlMs: number;
  tokenTtlMs: number;
  now: () => number;
  events: CaEvents;
  revocationRefreshMs: number;
  recreateStore: boolean;
}

function duration(value: number | undefined, def: number, what: string, min: number): number {
  const v = value ?? def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new CaError('invalid_argument', `${what} must be a duration of at least ${min} ms, got ${String(value)}`);
  }
  return Math.floor(v);
}

export function resolveOptions(opts: AuthorityOptions): ResolvedOptions {
  if (!opts || typeof opts.dataDir !== 'string' || opts.dataDir.trim() === '') {
    throw new CaError('invalid_argument', 'the CA needs a data directory (dataDir / --data-dir)');
  }
  let trustDomain: string;
  try {
    trustDomain = parseTrustDomain(opts.trustDomain);
  } catch (e) {
    throw new CaError('invalid_argument', `invalid trust domain: ${(e as Error).message}`, { cause: e });
  }
  const r: ResolvedOptions = {
    dataDir: opts.dataDir,
    trustDomain,
    rootTtlMs: duration(opts.rootTtlMs, 365 * DAY, 'rootTtl', MINUTE),
    intermediateTtlMs: duration(opts.intermediateTtlMs, 7 * DAY, 'intermediateTtl', MINUTE),
    svidTtlMs: duration(opts.svidTtlMs, HOUR, 'svidTtl', 1000),
    tokenTtlMs: duration(opts.tokenTtlMs, 10 * MINUTE, 'tokenTtl', 1000),
    now: opts.now ?? Date.now,
    events: opts.events ?? {},
    revocationRefreshMs: duration(opts.revocationRefreshMs, 500, 'revocationRefresh', 10),
    recreateStore: opts.recreateStore === true,
  };
  // An intermediate rotates with 2 SVID lifetimes left; it must live clearly longer than that or it
  // would be replaced on every issuance (SPIRE asks CA TTL >= 6x SVID TTL).
  if (r.intermediateTtlMs < 3 * r.svidTtlMs) {
    throw new CaError('invalid_argument', `intermediateTtl (${r.intermediateTtlMs} ms) must be at least 3× svidTtl (${r.svidTtlMs} ms)`);
  }
  if (r.rootTtlMs < r.intermediateTtlMs) {
    throw new CaError('invalid_argument', `rootTtl (${r.rootTtlMs} ms) must be at least intermediateTtl (${r.intermediateTtlMs} ms)`);
  }
  if (r.tokenTtlMs > MAX_TOKEN_TTL_MS) throw new CaError('invalid_argument', `tokenTtl must be at most 30 days`);
  return r;
}

/** The CA's options from the config file: one place, used by the CLI and by the gateway. */
export function authorityOptionsFromConfig(
  config: import('../config/schema.js').Config,
  dataDir: string,
  now?: () => number,
  events?: import('./api.js').CaEvents,
): AuthorityOptions {
  return {
    dataDir,
    trustDomain: config.trustDomain,
    rootTtlMs: config.ca.rootTtl,
    intermediateTtlMs: config.ca.intermediateTtl,
    svidTtlMs: config.ca.svidTtl,
    tokenTtlMs: config.ca.tokenTtl,
    now,
    events,
  };
}
