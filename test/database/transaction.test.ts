import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DatabaseError } from '../../database/errors.js';
import { postgresPerTest } from '../pg.js';

const { fresh, pool, defer } = postgresPerTest({ max: 2 });
const open = (url: string, applicationName?: string) => pool(url, { applicationName });

describe('PostgreSQL transactions', () => {
  it('a connection dropped between two statements fails the transaction as unavailable, without crashing the process', async () => {
    const t = await fresh();
    const db = await open(t.url, 'tollgate-victim');
    const admin = await open(t.url);
    // the process-wide handler sees what nobody listened to (an 'error' event of the checked-out client)
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    defer(() => {
      process.off('uncaughtException', onUncaught);
      return Promise.resolve();
    });

    const err = await db
      .transaction(async (tx) => {
        await tx.query("INSERT INTO ca_meta (key, value) VALUES ('k', 'v')");
        // the server goes away (restart, failover) while this replica works between two statements
        await admin.query("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = 'tollgate-victim'");
        await sleep(100);
        await tx.query("INSERT INTO ca_meta (key, value) VALUES ('k2', 'v')");
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(DatabaseError);
    expect(err).toMatchObject({ code: 'unavailable' });
    await sleep(50);
    expect(uncaught).toEqual([]);
    // nothing committed, and the pool hands out a working connection again
    expect((await db.query('SELECT key FROM ca_meta')).rows).toEqual([]);
    expect(await db.transaction(async (tx) => (await tx.query<{ n: number }>('SELECT 1 AS n')).rows[0].n)).toBe(1);
  });
});
