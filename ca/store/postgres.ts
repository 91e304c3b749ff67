/**
 * CaStore on PostgreSQL, shared by every replica of a fleet. The same contract as the SQLite store
 * (test/contracts/ca-store.ts runs against both); what changes is how one truth is kept across processes:
 *
 * - A token redemption is one transaction: `UPDATE ... WHERE used_at IS NULL RETURNING` is the claim (a
 *   concurrent redeemer blocks on the row lock and then finds it used), the certificate is signed in
 *   process and recorded in the same transaction.
 * - The revocation log is read by "seq > cursor". A sequence hands out numbers at insert but transactions
 *   commit in any order, so a reader could see 11 before 10 commits and skip 10 for ever. Every writer
 *   therefore takes the log's advisory lock before its first insert and holds it to commit: numbers are
 *   taken and made visible in one order, fleet-wide. (A rolled back insert leaves a gap nobody fills.)
 * - The exclusive section (CA initialisation, intermediate rotation) is a transaction holding the CA's
 *   advisory lock.
 * - "Store lost": the database no longer holds this CA's root fingerprint (dropped, restored from another
 *   CA, pointed elsewhere). Checked at most once a second, never treating "unreachable" as "lost".
 */
import type { IssuedRecord } from '../api.js';
import { CaError } from '../api.js';
import { DatabaseError } from '../../database/errors.js';
import { LOCKS, type PostgresDatabase, type Queryable } from '../../database/postgres.js';
import { LIST_ISSUED, eventFromRow, issuedFromRow, type IssuedRow, type LogRow } from './rows.js';
import type { CaStore, ConsumedToken, MetaAccess, NewIssued, NewToken, Redemption, RevocationEvent, SerialRevocation } from './types.js';

const META_ROOT = 'root_fingerprint';
const INTACT_CHECK_MS = 1000;

const INSERT_ISSUED = 'INSERT INTO issued (serial, spiffe_id, kind, not_before, not_after, issued_at) VALUES ($1, $2, $3, $4, $5, $6)';
const issuedValues = (c: NewIssued) => [c.serial, c.spiffeId, c.kind, c.notBefore, c.notAfter, c.issuedAt];
const LOG = 'INSERT INTO revocation_log (kind, spiffe_id, serial, not_after, at) VALUES ($1, $2, $3, $4, $5)';

export class PostgresCaStore implements CaStore {
  readonly shared = true;
  readonly location: string;
  /** the root this database belongs to, as first seen (null until the CA wrote it) */
  private root: string | null = null;
  private lastIntactCheck = 0;
  private lost: CaError | null = null;

  /** `ownsDatabase`: close() ends the pool too (a CLI command); otherwise the caller owns it (a replica's stores share it). */
  constructor(
    private readonly db: PostgresDatabase,
    private readonly opts: { ownsDatabase?: boolean } = {},
  ) {
    this.location = db.location;
  }

  watchRevocations(fn: () => void): () => void {
    return this.db.onChange('revocation_log', fn);
  }

  private failure(what: string, e: unknown): CaError {
    if (e instanceof CaError) return e;
    const hint =
      e instanceof DatabaseError && e.code === 'unavailable'
        ? 'traffic keeps flowing with what this replica holds; issuance and revocation resume when the database is back'
        : 'see the cause in the log';
    return new CaError('storage', `the CA database failed (${what}): ${(e as Error).message}; ${hint}`, { cause: e });
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.failure(what, e);
    }
  }

  private tx<T>(what: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.run(what, () => this.db.transaction(fn));
  }

  private static async readMetaOn(q: Queryable, key: string): Promise<string | null> {
    const { rows } = await q.query<{ value: string }>('SELECT value FROM ca_meta WHERE key = $1', [key]);
    return rows[0]?.value ?? null;
  }

  private static async writeMetaOn(q: Queryable, key: string, value: string): Promise<void> {
    await q.query('INSERT INTO ca_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  exclusive<T>(fn: (tx: MetaAccess) => T | Promise<T>): Promise<T> {
    const thrown: { error?: unknown } = {};
    return this.tx('lock', async (q) => {
      await q.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.ca]);
      try {
        // the section's own reads and writes fail as the store's other calls do: CaError('storage')
        return await fn({
          readMeta: (k) => this.run('read meta', () => PostgresCaStore.readMetaOn(q, k)),
          writeMeta: (k, v) => this.run('write meta', () => PostgresCaStore.writeMetaOn(q, k, v)),
        });
      } catch (e) {
        thrown.error = e;
        throw e;
      }
    }).catch((e: unknown) => {
      // fn's own error, not the store's: pass it on as is
      throw 'error' in thrown && (e === thrown.error || (e as CaError).cause === thrown.error) ? thrown.error : e;
    });
  }

  readMeta(key: string): Promise<string | null> {
    return this.run('read meta', () => PostgresCaStore.readMetaOn(this.db, key));
  }

  writeMeta(key: string, value: string): Promise<void> {
    return this.run('write meta', () => PostgresCaStore.writeMetaOn(this.db, key, value));
  }

  async createToken(t: NewToken): Promise<void> {
    await this.run('create token', () =>
      this.db.query('INSERT INTO join_tokens (hash, spiffe_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
        t.hash,
        t.spiffeId,
        t.createdAt,
        t.expiresAt,
      ]),
    );
  }

  async redeemToken<T>(hash: string, now: number, sign: (token: ConsumedToken) => { cert: NewIssued; value: T }): Promise<Redemption<T>> {
    const refused: { error?: unknown } = {};
    const result = await this.tx('redeem token', async (q): Promise<Redemption<T> | null> => {
      const claimed = await q.query<{ spiffe_id: string; expires_at: number; banned: boolean }>(
        `UPDATE join_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL
         RETURNING spiffe_id, expires_at, EXISTS (SELECT 1 FROM banned_identities b WHERE b.spiffe_id = join_tokens.spiffe_id) AS banned`,
        [now, hash],
      );
      const row = claimed.rows[0];
      if (row === undefined) {
        const seen = await q.query<{ spiffe_id: string; used_at: number | null }>('SELECT spiffe_id, used_at FROM join_tokens WHERE hash = $1', [hash]);
        const s = seen.rows[0];
        if (s !== undefined && s.used_at !== null) return { status: 'already_used', spiffeId: s.spiffe_id, usedAt: s.used_at };
        return { status: 'unknown' };
      }
      let signed: { cert: NewIssued; value: T };
      try {
        signed = sign({ spiffeId: row.spiffe_id, expiresAt: row.expires_at, banned: row.banned });
      } catch (e) {
        refused.error = e;
        return null; // commit the consumption alone: the failed attempt burns the token
      }
      await q.query(INSERT_ISSUED, issuedValues(signed.cert));
      await q.query('UPDATE join_tokens SET serial = $1 WHERE hash = $2', [signed.cert.serial, hash]);
      return { status: 'issued', value: signed.value };
    });
    if (result === null) throw refused.error;
    return result;
  }

  async pruneTokens(before: number): Promise<number> {
    const r = await this.run('prune tokens', () => this.db.query('DELETE FROM join_tokens WHERE expires_at < $1', [before]));
    return r.rowCount ?? 0;
  }

  async recordIssued(c: NewIssued): Promise<void> {
    await this.run('record issued certificate', () => this.db.query(INSERT_ISSUED, issuedValues(c)));
  }

  async recordIssuedMany(certs: readonly NewIssued[]): Promise<void> {
    if (certs.length === 0) return; // (no statement: `VALUES` with no tuple is a syntax error)
    if (certs.length === 1) return this.recordIssued(certs[0]);
    // one statement: all or none
    const values: unknown[] = [];
    const tuples = certs.map((c, i) => {
      values.push(...issuedValues(c));
      const b = i * 6;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6})`;
    });
    await this.run('record issued certificates', () =>
      this.db.query(`INSERT INTO issued (serial, spiffe_id, kind, not_before, not_after, issued_at) VALUES ${tuples.join(', ')}`, values),
    );
  }

  async listIssued(filter: { spiffeId?: string; limit?: number } = {}): Promise<IssuedRecord[]> {
    const limit = filter.limit && filter.limit > 0 ? Math.floor(filter.limit) : 1000;
    const { rows } = await this.run('list issued certificates', () =>
      filter.spiffeId
        ? this.db.query<IssuedRow>(`${LIST_ISSUED} WHERE i.spiffe_id = $1 ORDER BY i.issued_at DESC, i.serial LIMIT $2`, [filter.spiffeId, limit])
        : this.db.query<IssuedRow>(`${LIST_ISSUED} ORDER BY i.issued_at DESC, i.serial LIMIT $1`, [limit]),
    );
    return rows.map(issuedFromRow);
  }

  revokeIdentity(spiffeId: string, reason: string, now: number): Promise<number> {
    return this.tx('revoke identity', async (q) => {
      await q.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.revocationLog]);
      await q.query(
        'INSERT INTO banned_identities (spiffe_id, reason, banned_at) VALUES ($1, $2, $3) ON CONFLICT (spiffe_id) DO UPDATE SET reason = excluded.reason, banned_at = excluded.banned_at',
        [spiffeId, reason, now],
      );
      const { rows } = await q.query<{ serial: string; not_after: number }>(
        'UPDATE issued SET revoked_at = $1, revoke_reason = $2 WHERE spiffe_id = $3 AND revoked_at IS NULL RETURNING serial, not_after',
        [now, reason, spiffeId],
      );
      for (const c of rows) await q.query(LOG, ['serial', spiffeId, c.serial, c.not_after, now]);
      await q.query(LOG, ['identity', spiffeId, null, null, now]);
      return rows.length;
    });
  }

  unrevokeIdentity(spiffeId: string, now: number): Promise<boolean> {
    return this.tx('unrevoke identity', async (q) => {
      await q.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.revocationLog]);
      const r = await q.query('DELETE FROM banned_identities WHERE spiffe_id = $1', [spiffeId]);
      if (r.rowCount === 0) return false;
      await q.query(LOG, ['unrevoke_identity', spiffeId, null, null, now]);
      return true;
    });
  }

  revokeSerial(serial: string, reason: string, now: number): Promise<SerialRevocation> {
    return this.tx('revoke serial', async (q): Promise<SerialRevocation> => {
      await q.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.revocationLog]);
      const { rows } = await q.query<{ spiffe_id: string; not_after: number; revoked_at: number | null }>(
        'SELECT spiffe_id, not_after, revoked_at FROM issued WHERE serial = $1 FOR UPDATE',
        [serial],
      );
      const c = rows[0];
      if (c === undefined) return 'unknown_serial';
      if (c.revoked_at !== null) return 'already_revoked';
      await q.query('UPDATE issued SET revoked_at = $1, revoke_reason = $2 WHERE serial = $3', [now, reason, serial]);
      await q.query(LOG, ['serial', c.spiffe_id, serial, c.not_after, now]);
      return 'revoked';
    });
  }

  async isRevoked(serial: string, spiffeId: string): Promise<boolean> {
    const { rows } = await this.run('check revocation', () =>
      this.db.query<{ revoked: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM banned_identities WHERE spiffe_id = $2)
             OR EXISTS (SELECT 1 FROM issued WHERE serial = $1 AND revoked_at IS NOT NULL) AS revoked`,
        [serial, spiffeId],
      ),
    );
    return rows[0]?.revoked ?? false;
  }

  async isBanned(spiffeId: string): Promise<boolean> {
    const { rows } = await this.run('check revocation', () => this.db.query('SELECT 1 FROM banned_identities WHERE spiffe_id = $1', [spiffeId]));
    return rows.length > 0;
  }

  async revocationsSince(cursor: number, limit = -1): Promise<RevocationEvent[]> {
    const { rows } = await this.run('read revocations', () =>
      limit >= 0
        ? this.db.query<LogRow>('SELECT seq, kind, spiffe_id, serial, not_after FROM revocation_log WHERE seq > $1 ORDER BY seq LIMIT $2', [cursor, limit])
        : this.db.query<LogRow>('SELECT seq, kind, spiffe_id, serial, not_after FROM revocation_log WHERE seq > $1 ORDER BY seq', [cursor]),
    );
    return rows.map(eventFromRow);
  }

  async assertIntact(): Promise<void> {
    const now = Date.now();
    if (now - this.lastIntactCheck >= INTACT_CHECK_MS) {
      let current: string | null;
      try {
        current = await PostgresCaStore.readMetaOn(this.db, META_ROOT);
      } catch {
        return; // unreachable is not lost: the write that follows fails with its own clear error
      }
      this.lastIntactCheck = now;
      if (this.root === null) this.root = current;
      this.lost =
        this.root !== null && current !== this.root
          ? new CaError(
              'storage',
              `the database at ${this.location} no longer holds this CA (root ${this.root}${current ? `; it now holds root ${current}` : '; its CA records are gone'}): it issues and revokes nothing until the database is restored; restart with --recreate-store to start the records over`,
            )
          : null;
    }
    if (this.lost) throw this.lost;
  }

  close(): Promise<void> {
    return this.opts.ownsDatabase === true ? this.db.close() : Promise.resolve();
  }
}
