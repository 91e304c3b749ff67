/**
 * The gateway's identity: the CA and the gateway's own SVID, kept fresh. No listener here: the control
 * listener (control/gateway.ts, gateway/tollgate.ts) and the proxy read credentials() and follow
 * onCredentials, so each can be built with it in the order the composition needs.
 *
 *   1. open the CA (first start initialises it in the data directory)
 *   2. issue the gateway's own SVID (spiffe://<td>/tollgate/gateway, DNS/IP SANs = config serverNames)
 *   3. rotation: gateway SVID at half-life (with jitter), intermediate when the CA says it is due
 */
import type { CaStore } from '../ca/store/types.js';
import type { Config } from '../config/schema.js';
import type { CaEvents, CertificateAuthority, GatewayCredentials } from '../ca/api.js';
import { openAuthority } from '../ca/authority.js';
import { authorityOptionsFromConfig } from '../ca/options.js';
import { renewalDelay, retryDelay } from '../certs/rotation.js';
import type { ErrorLog } from './unary.js';

export const GATEWAY_PATH = '/tollgate/gateway';

export function gatewaySpiffeId(trustDomain: string): string {
  return `spiffe://${trustDomain}${GATEWAY_PATH}`;
}

/** pino-compatible subset */
export interface GatewayLog extends ErrorLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface GatewayIdentityOptions {
  dataDir: string;
  now?: () => number;
  random?: () => number;
  log?: GatewayLog;
  caEvents?: CaEvents;
  /** open the CA although its database is missing or new (`--recreate-store`) */
  recreateStore?: boolean;
  /** the CA's store (PostgreSQL shared by a fleet); default SQLite in dataDir */
  store?: CaStore;
  /** how often to ask the CA whether the intermediate is due (default: 1/10 of the SVID TTL, 1 s..60 s) */
  intermediateCheckMs?: number;
}

export interface GatewayIdentity {
  authority: CertificateAuthority;
  /** the gateway's current SVID (changes on rotation) */
  credentials(): GatewayCredentials;
  /** called after every gateway SVID rotation, in subscription order; returns unsubscribe */
  onCredentials(listener: (c: GatewayCredentials) => void): () => void;
  /** rotate the gateway SVID now (also used by the timer) */
  rotateCredentials(): Promise<GatewayCredentials>;
  /** stop the rotation timers (the CA stays open) */
  stopRotation(): void;
  /** stop rotating and close the CA */
  close(): Promise<void>;
}

const silentLog: GatewayLog = { info() {}, warn() {}, error() {} };

export async function openGatewayIdentity(config: Config, opts: GatewayIdentityOptions): Promise<GatewayIdentity> {
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const log = opts.log ?? silentLog;
  const timers = new Set<NodeJS.Timeout>();
  const listeners = new Set<(c: GatewayCredentials) => void>();
  let stopped = false;

  // 1. the CA
  const authority = await openAuthority({
    ...authorityOptionsFromConfig(config, opts.dataDir, now, opts.caEvents),
    recreateStore: opts.recreateStore,
    store: opts.store,
  });
  const stopRotation = () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };

  // 2. the gateway's own SVID
  const gatewayId = gatewaySpiffeId(authority.trustDomain);
  let creds: GatewayCredentials;
  try {
    creds = await authority.issueGatewayCredentials(gatewayId, config.serverNames);
  } catch (err) {
    await authority.close();
    throw err;
  }
  let issuedAt = now();

  // 3. rotation
  const later = (ms: number, fn: () => void) => {
    if (stopped) return;
    const t = setTimeout(
      () => {
        timers.delete(t);
        fn();
      },
      Math.min(ms, 2 ** 31 - 1),
    );
    t.unref();
    timers.add(t);
  };

  const rotateCredentials = async (): Promise<GatewayCredentials> => {
    const next = await authority.issueGatewayCredentials(gatewayId, config.serverNames);
    creds = next;
    issuedAt = now();
    for (const l of listeners) l(next);
    return next;
  };

  let failures = 0;
  const runRotation = (): void => {
    rotateCredentials().then(
      (c) => {
        failures = 0;
        log.info({ spiffeId: c.spiffeId, notAfter: new Date(c.notAfter).toISOString() }, 'gateway SVID rotated');
        planRotation();
      },
      (err: unknown) => {
        failures++;
        const delay = retryDelay(failures, { initialMs: 1000, maxMs: 30_000 }, random);
        log.error({ err, retryInMs: delay }, 'gateway SVID rotation failed');
        later(delay, runRotation);
      },
    );
  };
  // Half-life of the lifetime left when issued (the CA backdates notBefore): see renewalDelay.
  const planRotation = () =>
    later(renewalDelay({ notBefore: creds.notBefore, notAfter: creds.notAfter, obtainedAt: issuedAt }, now(), random, {}, true), runRotation);
  planRotation();

  const checkEvery = opts.intermediateCheckMs ?? Math.min(60_000, Math.max(1000, Math.floor(config.ca.svidTtl / 10)));
  const checkIntermediate = () =>
    later(checkEvery, () => {
      authority.rotateIfNeeded(now()).then(
        (rotated) => {
          if (rotated) log.info({ notAfter: new Date(authority.intermediateNotAfter()).toISOString() }, 'intermediate CA rotated');
          checkIntermediate();
        },
        (err: unknown) => {
          log.error({ err }, 'intermediate CA rotation failed; retrying at the next check');
          checkIntermediate();
        },
      );
    });
  checkIntermediate();

  let closed = false;
  return {
    authority,
    credentials: () => creds,
    onCredentials(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    rotateCredentials,
    stopRotation,
    async close() {
      if (closed) return;
      closed = true;
      stopRotation();
      await authority.close();
    },
  };
}
