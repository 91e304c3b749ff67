/**
 * The delegation key ring shared by a fleet through PostgreSQL (table `delegation_keys`), so a context
 * signed by one replica verifies on every other.
 *
 * - Secrets are stored sealed (AES-256-GCM, the key id as associated data) under a key the caller derives
 *   from the CA root key every replica holds: reading the database alone does not let anyone forge a
 *   delegation context.
 * - Every replica re-reads the table every `pollMs` (default 1 s), and at once when a write is announced
 *   (database/change-feed.ts), into its in-memory KeyRing; the request path never waits for the database.
 * - A new key signs only ACTIVATION_MS after it was written: by then every replica polling has it, so no
 *   replica receives a context signed with a key it has not seen yet. Until then the previous key signs.
 * - Rotation and pruning run under an advisory lock: of replicas rotating at the same moment, one does. The
 *   lock is taken only once the newest key this process has read is old enough to rotate.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { LOCKS, type PostgresDatabase, type Queryable } from '../../database/postgres.js';
import { DelegationError } from './errors.js';
import { freshKey, KeyRing, makeKey, type DelegationKey } from './keys.js';

/** How long a new key is known to every replica before it signs (several polls). */
export const ACTIVATION_MS = 5000;

interface Row {
  kid: string;
  sealed: string;
  created_at: number;
}

export interface PostgresKeyRingOptions {
  db: PostgresDatabase;
  /** 32 bytes, the same on every replica (derived from the CA root key) */
  sealKey: Buffer;
  now: () => number;
  /** the token TTL (ms): a key stops verifying this long after its successor started signing */
  retentionMs: number;
  pollMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

export interface SharedKeyRing {
  ring: KeyRing;
  /** re-read the table now */
  sync(): Promise<void>;
  /** rotate when the signing key is at least maxAgeMs old (one replica does it); resolves true when this one did */
  rotateIfOlderThan(maxAgeMs: number): Promise<boolean>;
  close(): void;
}

export function sealSecret(sealKey: Buffer, kid: string, secret: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', sealKey, iv);
  c.setAAD(Buffer.from(kid));
  const body = Buffer.concat([c.update(secret), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
}

export function unsealSecret(sealKey: Buffer, kid: string, sealed: string): Buffer {
  const raw = Buffer.from(sealed, 'base64url');
  try {
    const d = createDecipheriv('aes-256-gcm', sealKey, raw.subarray(0, 12));
    d.setAAD(Buffer.from(kid));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]);
  } catch (e) {
    throw new DelegationError(
      'keys_corrupt',
      `delegation key ${kid} in the database cannot be unsealed: it was written by a replica with another CA root (every replica needs the same root-ca.pem) or altered`,
      { cause: e },
    );
  }
}

/**
 * The ring as the table says at `now`: the signing key is the newest one active for ACTIVATION_MS (or the
 * oldest when none is yet: the first key of a new fleet signs at once); each earlier key retired when its
 * successor became active.
 */
export function ringFromRows(rows: readonly Row[], sealKey: Buffer, now: number): { keys: DelegationKey[]; currentKid: string } | null {
  if (rows.length === 0) return null;
  const sorted = [...rows].sort((a, b) => a.created_at - b.created_at || a.kid.localeCompare(b.kid));
  let current = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i].created_at + ACTIVATION_MS <= now) current = i;
  const keys = sorted.map((r, i) => {
    const secret = unsealSecret(sealKey, r.kid, r.sealed);
    // retired when the next key became active (a key after the current one is not signing yet: no retiredAt)
    const retiredAt = i < current ? sorted[i + 1].created_at + ACTIVATION_MS : undefined;
    return makeKey(r.kid, secret, r.created_at, retiredAt);
  });
  return { keys, currentKid: sorted[current].kid };
}

async function readRows(q: Queryable): Promise<Row[]> {
  return (await q.query<Row>('SELECT kid, sealed, created_at FROM delegation_keys')).rows;
}

async function insertKey(q: Queryable, sealKey: Buffer, k: DelegationKey): Promise<void> {
  await q.query('INSERT INTO delegation_keys (kid, sealed, created_at) VALUES ($1, $2, $3)', [k.kid, sealSecret(sealKey, k.kid, k.secret), k.createdAt]);
}

export async function openPostgresKeyRing(o: PostgresKeyRingOptions): Promise<SharedKeyRing> {
  // the first replica of a fleet makes the first key; the others (waiting on the lock) find it
  const rows = await o.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.delegationKeys]);
    const found = await readRows(tx);
    if (found.length > 0) return found;
    const first = freshKey(o.now());
    await insertKey(tx, o.sealKey, first);
    return readRows(tx);
  });
  const initial = ringFromRows(rows, o.sealKey, o.now());
  if (initial === null) throw new DelegationError('keys_corrupt', 'the delegation key table is empty after creating a key');
  // (the constructor's own fresh key is replaced at once: the table is the truth)
  const ring = new KeyRing({ now: o.now, retentionMs: o.retentionMs });
  ring.adopt(initial.keys, initial.currentKid);

  /** the newest key's creation time as last read from the table (0: the table was found empty) */
  let newestRead = rows.reduce((m, r) => Math.max(m, r.created_at), 0);
  const sync = async (): Promise<void> => {
    const found = await readRows(o.db);
    newestRead = found.reduce((m, r) => Math.max(m, r.created_at), 0);
    const next = ringFromRows(found, o.sealKey, o.now());
    if (next !== null) ring.adopt(next.keys, next.currentKid);
  };

  let syncing = false;
  /** a change was announced while a read was in flight (that read may have missed it): read again after it */
  let again = false;
  const syncInBackground = (announced: boolean): void => {
    if (syncing) {
      again ||= announced;
      return;
    }
    syncing = true;
    sync()
      .catch((err: unknown) => o.log?.warn({ err }, 'delegation keys: reading the shared key table failed; verifying with the keys held'))
      .finally(() => {
        syncing = false;
        if (again) {
          again = false;
          syncInBackground(false);
        }
      });
  };
  const timer = setInterval(() => syncInBackground(false), o.pollMs ?? 1000);
  timer.unref();
  // a rotation by another replica, announced: read at once rather than at the next poll
  const unwatch = o.db.onChange('delegation_keys', () => syncInBackground(true));

  const rotateIfOlderThan = async (maxAgeMs: number): Promise<boolean> => {
    // every process of the fleet asks every few seconds: while the newest key it has read is young, the
    // answer is no without a transaction and an advisory lock (a key the table has and this process has
    // not read yet is only younger, so this never skips a rotation that is due)
    if (newestRead > 0 && o.now() - newestRead < maxAgeMs) return false;
    const rotated = await o.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.delegationKeys]);
      const now = o.now();
      const found = await readRows(tx);
      const newest = found.reduce((m, r) => Math.max(m, r.created_at), 0);
      if (found.length > 0 && now - newest < maxAgeMs) return false;
      await insertKey(tx, o.sealKey, freshKey(now));
      // forget keys whose successor has been signing for longer than a token lives
      const sorted = [...found].sort((a, b) => a.created_at - b.created_at);
      for (let i = 0; i + 1 < sorted.length; i++) {
        if (sorted[i + 1].created_at + ACTIVATION_MS + o.retentionMs <= now) await tx.query('DELETE FROM delegation_keys WHERE kid = $1', [sorted[i].kid]);
      }
      return true;
    });
    await sync();
    return rotated;
  };

  return {
    ring,
    sync,
    rotateIfOlderThan,
    close: () => {
      clearInterval(timer);
      unwatch();
    },
  };
}
