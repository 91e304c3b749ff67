/**
 * CaStore on SQLite (better-sqlite3): one file, `<dataDir>/tollgate.db`, shared safely by the server and
 * the CLI. WAL lets readers run beside the single writer; busy_timeout makes a second process wait for the
 * write lock instead of failing. synchronous=NORMAL: in WAL mode every commit survives a process crash
 * (it is in the OS page cache); only a power loss can drop the last commits. FULL would fsync per
 * certificate and cap issuance at the disk's fsync rate.
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { IssuedRecord } from '../api.js';
import { CaError } from '../api.js';
import type { CaStore, NewIssued, NewToken, RevocationEvent, SerialRevocation, TokenUse } from './types.js';

const SCHEMA_VERSION = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  hash TEXT PRIMARY KEY,
  spiffe_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS issued (
  serial TEXT PRIMARY KEY,
  spiffe_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  issued_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoke_reason TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS issued_by_id ON issued (spiffe_id, issued_at);
CREATE TABLE IF NOT EXISTS banned_identities (spiffe_id TEXT PRIMARY KEY, reason TEXT NOT NULL, banned_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revocation_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('serial', 'identity', 'unrevoke_identity')),
  spiffe_id TEXT NOT NULL,
  serial TEXT,
  not_after INTEGER,
  at INTEGER NOT NULL
);
`;

// revoked: the certificate itself, or its identity is banned now (a certificate recorded by another
// process just as the ban was written is covered too)
const LIST = `SELECT i.serial, i.spiffe_id, i.not_before, i.not_after, i.issued_at,
  (i.revoked_at IS NOT NULL OR b.spiffe_id IS NOT NULL) AS revoked
  FROM issued i LEFT JOIN banned_identities b ON b.spiffe_id = i.spiffe_id`;

interface IssuedRow {
  serial: string;
  spiffe_id: string;
  not_before: number;
  not_after: number;
  issued_at: number;
  revoked: number;
}

interface LogRow {
  seq: number;
  kind: RevocationEvent['kind'];
  spiffe_id: string;
  serial: string | null;
  not_after: number | null;
}

export class SqliteCaStore implements CaStore {
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<SqliteCaStore['prepare']>;

  /** Opens (creating if needed) the database. Throws CaError('storage') naming the file. */
  constructor(readonly file: string) {
    try {
      // the file holds token hashes and the issuance log: owner-only, like the keys (SQLite gives the
      // -wal and -shm files the database file's mode)
      closeSync(openSync(file, 'a', 0o600));
      this.db = new Database(file);
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(SCHEMA);
      this.stmt = this.prepare();
    } catch (e) {
      (this as unknown as { db?: Database.Database }).db?.close();
      throw this.failure('open', e);
    }
    const version = this.readMeta('schema_version');
    if (version === null) this.writeMeta('schema_version', SCHEMA_VERSION);
    else if (version !== SCHEMA_VERSION) {
      this.db.close();
      throw new CaError('storage', `${file} has schema version ${version}, but this Tollgate understands ${SCHEMA_VERSION}; use a matching Tollgate version`);
    }
  }

  private prepare() {
    const db = this.db;
    return {
      readMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      writeMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      createToken: db.prepare('INSERT INTO tokens (hash, spiffe_id, created_at, expires_at) VALUES (?, ?, ?, ?)'),
      consumeToken: db.prepare<[number, string], { spiffe_id: string; expires_at: number; banned: number }>(
        `UPDATE tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL
         RETURNING spiffe_id, expires_at, EXISTS (SELECT 1 FROM banned_identities b WHERE b.spiffe_id = tokens.spiffe_id) AS banned`,
      ),
      findToken: db.prepare<[string], { spiffe_id: string; used_at: number | null }>('SELECT spiffe_id, used_at FROM tokens WHERE hash = ?'),
      pruneTokens: db.prepare('DELETE FROM tokens WHERE expires_at < ?'),
      recordIssued: db.prepare('INSERT INTO issued (serial, spiffe_id, kind, not_before, not_after, issued_at) VALUES (?, ?, ?, ?, ?, ?)'),
      listAll: db.prepare<[number], IssuedRow>(`${LIST} ORDER BY i.issued_at DESC, i.serial LIMIT ?`),
      listById: db.prepare<[string, number], IssuedRow>(`${LIST} WHERE i.spiffe_id = ? ORDER BY i.issued_at DESC, i.serial LIMIT ?`),
      unrevokedOf: db.prepare<[string], { serial: string; not_after: number }>('SELECT serial, not_after FROM issued WHERE spiffe_id = ? AND revoked_at IS NULL'),
      markRevoked: db.prepare('UPDATE issued SET revoked_at = ?, revoke_reason = ? WHERE serial = ? AND revoked_at IS NULL'),
      findIssued: db.prepare<[string], { spiffe_id: string; not_after: number; revoked_at: number | null }>(
        'SELECT spiffe_id, not_after, revoked_at FROM issued WHERE serial = ?',
      ),
      ban: db.prepare('INSERT INTO banned_identities (spiffe_id, reason, banned_at) VALUES (?, ?, ?) ON CONFLICT (spiffe_id) DO UPDATE SET reason = excluded.reason, banned_at = excluded.banned_at'),
      unban: db.prepare('DELETE FROM banned_identities WHERE spiffe_id = ?'),
      isBanned: db.prepare<[string], { x: number }>('SELECT 1 AS x FROM banned_identities WHERE spiffe_id = ?'),
      log: db.prepare('INSERT INTO revocation_log (kind, spiffe_id, serial, not_after, at) VALUES (?, ?, ?, ?, ?)'),
      since: db.prepare<[number, number], LogRow>('SELECT seq, kind, spiffe_id, serial, not_after FROM revocation_log WHERE seq > ? ORDER BY seq LIMIT ?'),
    };
  }

  private failure(what: string, e: unknown): CaError {
    if (e instanceof CaError) return e;
    const code = (e as { code?: string }).code ?? 'error';
    let hint = 'check that the data directory is readable and writable and the disk is not full';
    if (code === 'SQLITE_BUSY') hint = 'another process holds the database lock for too long; retry';
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') hint = 'the file is not a valid Tollgate database; restore it from a backup';
    return new CaError('storage', `the CA database ${this.file} failed (${what}: ${code}); ${hint}`, { cause: e });
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.failure(what, e);
    }
  }

  exclusive<T>(fn: () => T): T {
    const thrown: { error?: unknown } = {};
    try {
      return this.db
        .transaction(() => {
          try {
            return fn();
          } catch (e) {
            thrown.error = e;
            throw e;
          }
        })
        .immediate();
    } catch (e) {
      if ('error' in thrown && e === thrown.error) throw e; // fn's own error, not the store's: pass it on as is
      throw this.failure('lock', e);
    }
  }

  readMeta(key: string): string | null {
    return this.run('read meta', () => this.stmt.readMeta.get(key)?.value ?? null);
  }

  writeMeta(key: string, value: string): void {
    this.run('write meta', () => this.stmt.writeMeta.run(key, value));
  }

  createToken(t: NewToken): void {
    this.run('create token', () => this.stmt.createToken.run(t.hash, t.spiffeId, t.createdAt, t.expiresAt));
  }

  useToken(hash: string, now: number): TokenUse {
    return this.run('use token', () => {
      // One UPDATE is the whole claim: SQLite serialises writers across processes, so only one caller
      // sees the row come back.
      const row = this.stmt.consumeToken.get(now, hash);
      if (row) return { status: 'consumed', spiffeId: row.spiffe_id, expiresAt: row.expires_at, banned: row.banned === 1 };
      const seen = this.stmt.findToken.get(hash);
      if (seen && seen.used_at !== null) return { status: 'already_used', spiffeId: seen.spiffe_id, usedAt: seen.used_at };
      return { status: 'unknown' };
    });
  }

  pruneTokens(before: number): number {
    return this.run('prune tokens', () => this.stmt.pruneTokens.run(before).changes);
  }

  recordIssued(c: NewIssued): void {
    this.run('record issued certificate', () => this.stmt.recordIssued.run(c.serial, c.spiffeId, c.kind, c.notBefore, c.notAfter, c.issuedAt));
  }

  recordIssuedMany(certs: readonly NewIssued[]): void {
    if (certs.length === 1) return this.recordIssued(certs[0]);
    this.run('record issued certificates', () =>
      this.db.transaction(() => {
        for (const c of certs) this.stmt.recordIssued.run(c.serial, c.spiffeId, c.kind, c.notBefore, c.notAfter, c.issuedAt);
      })(),
    );
  }

  listIssued(filter: { spiffeId?: string; limit?: number } = {}): IssuedRecord[] {
    const limit = filter.limit && filter.limit > 0 ? Math.floor(filter.limit) : 1000;
    return this.run('list issued certificates', () => {
      const rows = filter.spiffeId ? this.stmt.listById.all(filter.spiffeId, limit) : this.stmt.listAll.all(limit);
      return rows.map((r) => ({
        serial: r.serial,
        spiffeId: r.spiffe_id,
        notBefore: r.not_before,
        notAfter: r.not_after,
        issuedAt: r.issued_at,
        revoked: r.revoked === 1,
      }));
    });
  }

  revokeIdentity(spiffeId: string, reason: string, now: number): number {
    return this.run('revoke identity', () =>
      this.db
        .transaction(() => {
          this.stmt.ban.run(spiffeId, reason, now);
          let n = 0;
          for (const c of this.stmt.unrevokedOf.all(spiffeId)) {
            this.stmt.markRevoked.run(now, reason, c.serial);
            this.stmt.log.run('serial', spiffeId, c.serial, c.not_after, now);
            n++;
          }
          this.stmt.log.run('identity', spiffeId, null, null, now);
          return n;
        })
        .immediate(),
    );
  }

  unrevokeIdentity(spiffeId: string, now: number): boolean {
    return this.run('unrevoke identity', () =>
      this.db
        .transaction(() => {
          if (this.stmt.unban.run(spiffeId).changes === 0) return false;
          this.stmt.log.run('unrevoke_identity', spiffeId, null, null, now);
          return true;
        })
        .immediate(),
    );
  }

  revokeSerial(serial: string, reason: string, now: number): SerialRevocation {
    return this.run('revoke serial', () =>
      this.db
        .transaction((): SerialRevocation => {
          const c = this.stmt.findIssued.get(serial);
          if (!c) return 'unknown_serial';
          if (c.revoked_at !== null) return 'already_revoked';
          this.stmt.markRevoked.run(now, reason, serial);
          this.stmt.log.run('serial', c.spiffe_id, serial, c.not_after, now);
          return 'revoked';
        })
        .immediate(),
    );
  }

  isRevoked(serial: string, spiffeId: string): boolean {
    return this.run('check revocation', () => {
      if (this.stmt.isBanned.get(spiffeId)) return true;
      const c = this.stmt.findIssued.get(serial);
      return c !== undefined && c.revoked_at !== null;
    });
  }

  isBanned(spiffeId: string): boolean {
    return this.run('check revocation', () => this.stmt.isBanned.get(spiffeId) !== undefined);
  }

  revocationsSince(cursor: number, limit = -1): RevocationEvent[] {
    return this.run('read revocations', () =>
      this.stmt.since.all(cursor, limit).map((r): RevocationEvent =>
        r.kind === 'serial'
          ? { seq: r.seq, kind: 'serial', serial: r.serial ?? '', spiffeId: r.spiffe_id, notAfter: r.not_after ?? Number.MAX_SAFE_INTEGER }
          : { seq: r.seq, kind: r.kind, spiffeId: r.spiffe_id },
      ),
    );
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      // closing twice or after a failure: nothing left to release
    }
  }
}
