/** A PostgreSQL database of a benchmark's own on the local server (TOLLGATE_BENCH_PG), dropped afterwards. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const BENCH_PG = process.env.TOLLGATE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: BENCH_PG });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function tempDatabase(prefix = 'tg_bench'): Promise<TempDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(BENCH_PG);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export async function withTempDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const db = await tempDatabase();
  try {
    return await fn(db.url);
  } finally {
    await db.drop();
  }
}
