/**
 * CaStore on SQLite (better-sqlite3): one file, `<dataDir>/tollgate.db`, shared safely by the server and
 * the CLI. WAL lets readers run beside the single writer; busy_timeout makes a second process wait for the
 * write lock instead of failing. synchronous=NORMAL: in WAL mode every commit survives a process crash
 * (it is in the OS page cache); only a power loss can drop the last commits. FULL would fsync per
 * certificate and cap issuance at the disk's fsync rate.
 */
/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous: `async` turns a throw into a rejection, as the store contract says */
import { chmodSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { IssuedRecord } from '../api.js';
import { CaError } from '../api.js';
import { LIST_ISSUED, eventFromRow, issuedFromRow, type IssuedRow, type LogRow } from './rows.js';
import type { CaStore, ConsumedToken, MetaAccess, NewIssued, NewToken, Redemption, RevocationEvent, SerialRevocation } from './types.js';

/** 2: tokens.serial, the certificate a token produced (redemption is one transaction). */
const SCHEMA_VERSION = '2';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  hash TEXT PRIMARY KEY,
  spiffe_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  serial TEXT
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

/** the last exclusive section queued per database file, across the SqliteCaStore instances of this process */
const exclusiveSections = new Map<string, Promise<void>>();

/**
 * The store's calls run synchronously (better-sqlite3) and hand their result over as a settled promise,
 * so callers see the same contract as a networked store's.
 */
export class SqliteCaStore implements CaStore {
  readonly shared = false;
  private readonly db: Database.Database;

  private readonly stmt: ReturnType<SqliteCaStore['prepare']>;
  /** dev/inode of the file opened, to notice it being deleted or replaced (stat opens no descriptor) */
  private readonly opened: { dev: bigint; ino: bigint };
  readonly location: string;
  /** the file's absolute path: two spellings of one path share one in-process lock */
  private readonly lockKey: string;

  /** Opens (creating if needed) the database. Throws CaError('storage') naming the file. */
  constructor(readonly file: string) {
    this.location = file;
    this.lockKey = path.resolve(file);
    try {
      // The file holds token hashes and the issuance log: owner-only, like the keys (SQLite gives the
      // -wal and -shm files the database file's mode). Never open the file outside SQLite: closing any
      // descriptor of it drops every POSIX lock this process holds on it (also another connection's, e.g.
      // the settings store's), and then an outside reader deletes the WAL under us. chmod opens nothing.
      const created = !existsSync(file);
      this.db = new Database(file);
      if (created) chmodSync(file, 0o600);
      const st = statSync(file, { bigint: true });
      this.opened = { dev: st.dev, ino: st.ino };
      this.db.pragma('busy_timeout = 5000');
      // Two processes creating one database at once: switching a new file to WAL needs an exclusive lock that
      // SQLite may refuse at once (SQLITE_BUSY) rather than wait for through busy_timeout. Opening is rare
      // (start, a CLI command): retry for up to ~2 s before reporting the lock.
      whileBusy(() => {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
        this.db.exec(SCHEMA);
      });
      this.migrate();
      this.stmt = this.prepare();
    } catch (e) {
      (this as unknown as { db?: Database.Database }).db?.close();
      throw this.failure('open', e);
    }
  }

  /** Bring the schema to SCHEMA_VERSION under the write lock (two processes may open an old file at once). */
  private migrate(): void {
    const version = () => this.db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").get()?.value ?? null;
    const set = (v: string) =>
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(v);
    this.db
      .transaction(() => {
        const v = version();
        if (v === SCHEMA_VERSION) return;
        if (v === null) return set(SCHEMA_VERSION); // a new file: SCHEMA made the current tables
        if (v === '1') {
          this.db.exec('ALTER TABLE tokens ADD COLUMN serial TEXT');
          return set(SCHEMA_VERSION);
        }
        throw new CaError('storage', `${this.file} has schema version ${v}, but this Tollgate understands ${SCHEMA_VERSION}; use a matching Tollgate version`);
      })
      .immediate();
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
      tokenSerial: db.prepare('UPDATE tokens SET serial = ? WHERE hash = ?'),
      pruneTokens: db.prepare('DELETE FROM tokens WHERE expires_at < ?'),
      recordIssued: db.prepare('INSERT INTO issued (serial, spiffe_id, kind, not_before, not_after, issued_at) VALUES (?, ?, ?, ?, ?, ?)'),
      listAll: db.prepare<[number], IssuedRow>(`${LIST_ISSUED} ORDER BY i.issued_at DESC, i.serial LIMIT ?`),
      listById: db.prepare<[string, number], IssuedRow>(`${LIST_ISSUED} WHERE i.spiffe_id = ? ORDER BY i.issued_at DESC, i.serial LIMIT ?`),
      unrevokedOf: db.prepare<[string], { serial: string; not_after: number }>(
        'SELECT serial, not_after FROM issued WHERE spiffe_id = ? AND revoked_at IS NULL',
      ),
      markRevoked: db.prepare('UPDATE issued SET revoked_at = ?, revoke_reason = ? WHERE serial = ? AND revoked_at IS NULL'),
      findIssued: db.prepare<[string], { spiffe_id: string; not_after: number; revoked_at: number | null }>(
        'SELECT spiffe_id, not_after, revoked_at FROM issued WHERE serial = ?',
      ),
      ban: db.prepare(
        'INSERT INTO banned_identities (spiffe_id, reason, banned_at) VALUES (?, ?, ?) ON CONFLICT (spiffe_id) DO UPDATE SET reason = excluded.reason, banned_at = excluded.banned_at',
      ),
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

  async exclusive<T>(fn: (tx: MetaAccess) => T | Promise<T>): Promise<T> {
    // One exclusive section per file in this process at a time: a second connection's BEGIN IMMEDIATE
    // would wait for the lock synchronously (busy_timeout), blocking the very event loop that must finish
    // the first section. Between processes SQLite's own lock does the job.
    const previous = exclusiveSections.get(this.lockKey) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((r) => (release = r));
    exclusiveSections.set(this.lockKey, mine);
    await previous;
    try {
      this.run('lock', () => this.db.exec('BEGIN IMMEDIATE'));
      let result: T;
      try {
        result = await fn({ readMeta: (k) => this.readMeta(k), writeMeta: (k, v) => this.writeMeta(k, v) });
      } catch (e) {
        this.rollback();
        throw e; // fn's own error, not the store's: pass it on as is
      }
      try {
        this.db.exec('COMMIT');
      } catch (e) {
        this.rollback();
        throw this.failure('lock', e);
      }
      return result;
    } finally {
      if (exclusiveSections.get(this.lockKey) === mine) exclusiveSections.delete(this.lockKey);
      release();
    }
  }

  private rollback(): void {
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } catch {
      // SQLite already rolled back (e.g. after an I/O error): nothing left to undo
    }
  }

  async readMeta(key: string): Promise<string | null> {
    return this.run('read meta', () => this.stmt.readMeta.get(key)?.value ?? null);
  }

  async writeMeta(key: string, value: string): Promise<void> {
    this.run('write meta', () => this.stmt.writeMeta.run(key, value));
  }

  async createToken(t: NewToken): Promise<void> {
    this.run('create token', () => this.stmt.createToken.run(t.hash, t.spiffeId, t.createdAt, t.expiresAt));
  }

  async redeemToken<T>(hash: string, now: number, sign: (token: ConsumedToken) => { cert: NewIssued; value: T }): Promise<Redemption<T>> {
    const refused: { error?: unknown } = {};
    const result = this.run('redeem token', () =>
      this.db
        .transaction((): Redemption<T> | null => {
          // One UPDATE is the claim: SQLite serialises writers across processes, so only one caller sees
          // the row come back.
          const row = this.stmt.consumeToken.get(now, hash);
          if (!row) {
            const seen = this.stmt.findToken.get(hash);
            if (seen && seen.used_at !== null) return { status: 'already_used', spiffeId: seen.spiffe_id, usedAt: seen.used_at };
            return { status: 'unknown' };
          }
          let signed: { cert: NewIssued; value: T };
          try {
            signed = sign({ spiffeId: row.spiffe_id, expiresAt: row.expires_at, banned: row.banned === 1 });
          } catch (e) {
            refused.error = e;
            return null; // commit the consumption alone: the failed attempt burns the token
          }
          const c = signed.cert;
          this.stmt.recordIssued.run(c.serial, c.spiffeId, c.kind, c.notBefore, c.notAfter, c.issuedAt);
          this.stmt.tokenSerial.run(c.serial, hash);
          return { status: 'issued', value: signed.value };
        })
        .immediate(),
    );
    if (result === null) throw refused.error;
    return result;
  }

  async pruneTokens(before: number): Promise<number> {
    return this.run('prune tokens', () => this.stmt.pruneTokens.run(before).changes);
  }

  async recordIssued(c: NewIssued): Promise<void> {
    this.run('record issued certificate', () => this.stmt.recordIssued.run(c.serial, c.spiffeId, c.kind, c.notBefore, c.notAfter, c.issuedAt));
  }

  async recordIssuedMany(certs: readonly NewIssued[]): Promise<void> {
    if (certs.length === 1) {
      await this.recordIssued(certs[0]);
      return;
    }
    this.run('record issued certificates', () =>
      this.db.transaction(() => {
        for (const c of certs) this.stmt.recordIssued.run(c.serial, c.spiffeId, c.kind, c.notBefore, c.notAfter, c.issuedAt);
      })(),
    );
  }

  async listIssued(filter: { spiffeId?: string; limit?: number } = {}): Promise<IssuedRecord[]> {
    const limit = filter.limit && filter.limit > 0 ? Math.floor(filter.limit) : 1000;
    return this.run('list issued certificates', () => {
      const rows = filter.spiffeId ? this.stmt.listById.all(filter.spiffeId, limit) : this.stmt.listAll.all(limit);
      return rows.map(issuedFromRow);
    });
  }

  async revokeIdentity(spiffeId: string, reason: string, now: number): Promise<number> {
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

  async unrevokeIdentity(spiffeId: string, now: number): Promise<boolean> {
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

  async revokeSerial(serial: string, reason: string, now: number): Promise<SerialRevocation> {
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

  async isRevoked(serial: string, spiffeId: string): Promise<boolean> {
    return this.run('check revocation', () => {
      if (this.stmt.isBanned.get(spiffeId)) return true;
      const c = this.stmt.findIssued.get(serial);
      return c !== undefined && c.revoked_at !== null;
    });
  }

  async isBanned(spiffeId: string): Promise<boolean> {
    return this.run('check revocation', () => this.stmt.isBanned.get(spiffeId) !== undefined);
  }

  async revocationsSince(cursor: number, limit = -1): Promise<RevocationEvent[]> {
    return this.run('read revocations', () => this.stmt.since.all(cursor, limit).map(eventFromRow));
  }

  async assertIntact(): Promise<void> {
    let st;
    try {
      st = statSync(this.file, { bigint: true, throwIfNoEntry: false });
    } catch (e) {
      throw this.failure('check the file', e);
    }
    if (st && st.dev === this.opened.dev && st.ino === this.opened.ino) return;
    throw new CaError(
      'storage',
      `the CA database ${this.file} was ${st ? 'replaced by another file' : 'deleted'} while the CA was running: it issues and revokes nothing while the file is gone, since those records would be lost; move the file back, or stop Tollgate, restore it from a backup and start again (--recreate-store starts over with an empty store)`,
    );
  }

  async close(): Promise<void> {
    try {
      this.db.close();
    } catch {
      // closing twice or after a failure: nothing left to release
    }
  }
}

/** Run `step`, again after a short pause while SQLite answers SQLITE_BUSY (at most ~2 s); other errors at once. */
function whileBusy(step: () => void): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let tries = 1; ; tries++) {
    try {
      step();
      return;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (tries >= 40 || code === undefined || !code.startsWith('SQLITE_BUSY')) throw e;
      Atomics.wait(pause, 0, 0, 50); // a synchronous pause: the constructor is synchronous
    }
  }
}
