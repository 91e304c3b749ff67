/**
 * A PostgreSQL database of a test's own on the machine's server (127.0.0.1:5432, trust auth, user postgres;
 * `.ci/run` starts it when it is down). Each call creates `tg_test_<random>` and drop() removes it, whatever
 * connections are still open. TOLLGATE_TEST_PG overrides the server URL (the database name is replaced).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach } from 'vitest';
import { openPostgres, type PostgresDatabase, type PostgresOptions } from '../database/postgres.js';

const SERVER = process.env.TOLLGATE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  /** postgres://.../<name> */
  url: string;
  drop(): Promise<void>;
}

function urlFor(name: string): string {
  const u = new URL(SERVER);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: SERVER });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tg_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  let dropped = false;
  return {
    name,
    url: urlFor(name),
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

export interface PostgresPerTest {
  /** a fresh database, dropped after the test */
  fresh: () => Promise<TestDatabase>;
  /** a pool on `url`, closed after the test (before the databases are dropped) */
  pool: (url: string, opts?: PostgresOptions) => Promise<PostgresDatabase>;
  /** run `f` after the test, before what was opened earlier is closed */
  defer: (f: () => Promise<void> | void) => void;
}

/** Databases and pools of the current test, all closed and dropped after it (registers an afterEach). */
export function postgresPerTest(defaults: PostgresOptions = {}): PostgresPerTest {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  return {
    fresh: async () => {
      const t = await createTestDatabase();
      cleanup.push(() => t.drop());
      return t;
    },
    pool: async (url, opts = {}) => {
      const db = await openPostgres(url, { ...defaults, ...opts });
      cleanup.push(() => db.close());
      return db;
    },
    defer: (f) => {
      cleanup.push(f);
    },
  };
}
