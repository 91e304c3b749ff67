/**
 * The delegation context keys, where the store says: a 0600 file in the data dir (one process), or the
 * fleet's database table sealed with a secret derived from the CA root (every replica verifies what any
 * replica signed). Either way the stage reads an in-memory KeyRing.
 */
import type { CertificateAuthority } from '../ca/api.js';
import type { GatewayLog } from '../control/gateway-identity.js';
import { openKeyRing, type KeyRing } from '../governance/delegation/index.js';
import type { Stores } from './stores.js';

export interface DelegationKeys {
  ring: KeyRing;
  /** for the housekeeping timer: never throws (a failed shared rotation is logged and retried at the next tick) */
  rotateIfOlderThan(maxAgeMs: number): void;
  close(): void;
}

/** The purpose string the seal key is derived for; changing it orphans every stored key. */
export const DELEGATION_SEAL_PURPOSE = 'delegation keys v1';

export async function openDelegationKeys(o: {
  stores: Stores;
  dataDir: string;
  authority: CertificateAuthority;
  now: () => number;
  retentionMs: number;
  log: GatewayLog;
}): Promise<DelegationKeys> {
  if (o.stores.db === undefined) {
    const ring = openKeyRing({ dataDir: o.dataDir, now: o.now, retentionMs: o.retentionMs, log: o.log });
    return { ring, rotateIfOlderThan: (ms) => void ring.rotateIfOlderThan(ms), close: () => undefined };
  }
  const { openPostgresKeyRing } = await import('../governance/delegation/postgres-keys.js');
  const shared = await openPostgresKeyRing({
    db: o.stores.db,
    sealKey: o.authority.deriveSecret(DELEGATION_SEAL_PURPOSE),
    now: o.now,
    retentionMs: o.retentionMs,
    log: o.log,
  });
  let rotating = false;
  return {
    ring: shared.ring,
    rotateIfOlderThan(ms) {
      if (rotating) return;
      rotating = true;
      shared
        .rotateIfOlderThan(ms)
        .catch((err: unknown) => o.log.warn({ err }, 'delegation keys: rotation in the shared store failed; retrying at the next tick'))
        .finally(() => (rotating = false));
    },
    close: () => shared.close(),
  };
}
