/**
 * The PostgreSQL database a fleet of Tollgate replicas shares (`store: postgres://...`): one pool per
 * process, the schema brought up to date at open under an advisory lock (replicas starting together
 * migrate once), a database at a newer schema than this binary refused with one line.
 *
 * The stores built on it (ca/store/postgres.ts, control/admin/postgres-settings.ts,
 * governance/delegation/postgres-keys.ts) own their queries; this module owns the connection, the
 * transaction helper and the schema. Failures reject with DatabaseError; each store wraps it in its own
 * layer's 'storage' error.
 */
import pg from 'pg';
import { startChangeFeed, type WatchedTable } from './change-feed.js';
import { DatabaseError } from './errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { redactUrl } from './redact.js';

export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface PostgresOptions {
  /** pool size (default 10) */
  max?: number;
  /** how long a query waits for a connection before failing (ms, default 3000): a database that went away fails fast */
  connectTimeoutMs?: number;
  /** server-side statement timeout (ms, default 10000) */
  statementTimeoutMs?: number;
  /** shown in pg_stat_activity */
  applicationName?: string;
  /** errors of idle pooled connections (the database restarted): logged, the pool replaces them */
  onIdleError?: (err: Error) => void;
  /** the change feed's connection failed (reported once until it is back; the readers' polls carry on) */
  onChangeFeedError?: (err: Error) => void;
}

export interface PostgresDatabase extends Queryable {
  /** the URL without its password, for messages */
  readonly location: string;
  /** run `fn` in one transaction on one connection; commits when it resolves, rolls back when it rejects */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Run `fn` after each committed change to `table` by any process, and after the change feed (re)connects
   * (database/change-feed.ts: one LISTEN connection per pool, opened on first use). Returns its removal.
   */
  onChange(table: WatchedTable, fn: () => void): () => void;
  close(): Promise<void>;
}

/** Advisory lock keys (pg_advisory_xact_lock): one number per critical section, fleet-wide. */
export const LOCKS = {
  migrate: 7_461_001,
  /** CA initialisation and intermediate rotation */
  ca: 7_461_002,
  /** every insert into revocation_log: the log's order is taken under it (see ca/store/postgres.ts) */
  revocationLog: 7_461_003,
  /** delegation key rotation */
  delegationKeys: 7_461_004,
} as const;

/** A URL is a PostgreSQL store URL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

// int8 (bigint) columns hold millisecond times and sequence numbers, all far below 2^53: read them as numbers
const INT8_OID = 20;
const defaultParser = pg.types.getTypeParser as (oid: number, format?: string) => unknown;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (v: string) => Number(v) : defaultParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Open the pool, check the server answers, and bring the schema up to date. */
export async function openPostgres(url: string, opts: PostgresOptions = {}): Promise<PostgresDatabase> {
  const location = redactUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 3000,
    statement_timeout: opts.statementTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    application_name: opts.applicationName ?? 'tollgate',
    types,
  });
  // Without a listener an idle connection's error (server restart) would crash the process.
  pool.on('error', (err) => opts.onIdleError?.(err));

  const fail = (what: string, cause: unknown) => DatabaseError.from(location, what, cause);
  const feed = startChangeFeed({ connectionString: url, applicationName: `${opts.applicationName ?? 'tollgate'} changes`, onError: opts.onChangeFeedError });

  const db: PostgresDatabase = {
    location,
    async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      try {
        return await pool.query<R>(text, values);
      } catch (e) {
        throw fail('query', e);
      }
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw fail('connect', e);
      }
      let broken: Error | undefined;
      // The pool listens for errors of idle connections only: a checked-out one that drops between two
      // statements (server restart, failover, network cut) emits 'error' with nobody listening, which
      // would crash the process. Note it instead: the next statement fails on its own, and the connection
      // is not handed out again.
      const onError = (err: Error) => {
        broken ??= err;
      };
      client.on('error', onError);
      const tx: Queryable = {
        async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
          try {
            return await client.query<R>(text, values);
          } catch (e) {
            throw fail('query', e);
          }
        },
      };
      try {
        await tx.query('BEGIN');
        const result = await fn(tx);
        await tx.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error; // the connection is gone: do not hand it out again
        }
        throw e;
      } finally {
        client.removeListener('error', onError);
        client.release(broken);
      }
    },
    onChange: (table, fn) => feed.on(table, fn),
    async close() {
      await feed.close();
      if (pool.ended) return;
      await pool.end();
    },
  };

  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e instanceof DatabaseError ? e : fail('migrate', e);
  }
  return db;
}

/**
 * Apply the migrations this binary knows and the database lacks, in one transaction under the migrate
 * lock: a second replica starting at the same moment waits, then finds nothing left to do. A database
 * migrated by a newer Tollgate is refused (its tables may mean something this binary does not know).
 */
async function migrate(db: PostgresDatabase): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.migrate]);
    await tx.query('CREATE TABLE IF NOT EXISTS tollgate_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const { rows } = await tx.query<{ v: number | null }>('SELECT max(version) AS v FROM tollgate_schema');
    const current = rows[0]?.v ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new DatabaseError(
        'schema_newer',
        `the database at ${db.location} has Tollgate schema version ${current}, but this Tollgate knows up to ${SCHEMA_VERSION}; run the newer Tollgate, or point --store at another database`,
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await tx.query(m.sql);
      await tx.query('INSERT INTO tollgate_schema (version, applied_at) VALUES ($1, $2)', [m.version, Date.now()]);
    }
  });
}
