import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { openPostgres } from '../../database/postgres.js';
import { SCHEMA_VERSION } from '../../database/migrations.js';
import { postgresPerTest } from '../pg.js';

const { fresh, pool: open } = postgresPerTest({ max: 2 });

describe('PostgreSQL schema migrations', () => {
  it('replicas starting together migrate once, and a later open changes nothing', async () => {
    const t = await fresh();
    const dbs = await Promise.all(Array.from({ length: 4 }, () => open(t.url)));
    const { rows } = await dbs[0].query<{ version: number }>('SELECT version FROM tollgate_schema ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    await open(t.url);
    expect((await dbs[0].query('SELECT version FROM tollgate_schema')).rowCount).toBe(SCHEMA_VERSION);
  });

  it('refuses a database at a newer schema with one line naming both versions', async () => {
    const t = await fresh();
    const db = await open(t.url);
    await db.query('INSERT INTO tollgate_schema (version, applied_at) VALUES ($1, 0)', [SCHEMA_VERSION + 1]);
    const err = await openPostgres(t.url).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'schema_newer' });
    const message = (err as Error).message;
    expect(message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    expect(message).toContain(`knows up to ${SCHEMA_VERSION}`);
    expect(message).not.toContain('\n');
  });

  it('names the database without its password when the server cannot be reached', async () => {
    const err = await openPostgres('postgres://tollgate:s3cret@127.0.0.1:1/nowhere', { connectTimeoutMs: 1000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'unavailable' });
    expect((err as Error).message).toContain('postgres://tollgate:***@127.0.0.1:1/nowhere');
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('a failed transaction leaves nothing behind and the connection is usable again', async () => {
    const t = await fresh();
    const db = await open(t.url);
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO ca_meta (key, value) VALUES ('k', 'v')");
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await db.query('SELECT * FROM ca_meta')).rowCount).toBe(0);
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    expect((await c.query('SELECT count(*)::int AS n FROM ca_meta')).rows[0]).toEqual({ n: 0 });
    await c.end();
  });
});
