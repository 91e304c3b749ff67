/**
 * The change feed (database/change-feed.ts, migration 2's triggers) on a real PostgreSQL: a committed write
 * to a watched table runs the readers of that table in every process, a rolled-back one runs nothing, and
 * a feed whose connection is cut reconnects and runs every reader once (what changed meanwhile was missed).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresPerTest } from '../pg.js';

const { fresh, pool } = postgresPerTest({ max: 2 });

/** counts the runs of a reader, and waits for the next */
function reader() {
  let runs = 0;
  const waiters: (() => void)[] = [];
  return {
    fn: () => {
      runs++;
      waiters.splice(0).forEach((w) => w());
    },
    runs: () => runs,
    async next(what: string, ms = 3000): Promise<number> {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${what}: no run within ${ms} ms`)), ms);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
      return performance.now() - t0;
    },
  };
}

describe('change feed (PostgreSQL LISTEN/NOTIFY)', () => {
  it("another process's committed write runs that table's readers, at once; a rolled-back write and another table's do not", async () => {
    const t = await fresh();
    const writer = await pool(t.url);
    const listener = await pool(t.url);
    const revocations = reader();
    const keys = reader();
    listener.onChange('revocation_log', revocations.fn);
    listener.onChange('delegation_keys', keys.fn);
    await revocations.next('the first connect'); // every reader runs once when the feed connects
    await sleep(50);
    const [r0, k0] = [revocations.runs(), keys.runs()];

    const heard = revocations.next('a revocation');
    await writer.query("INSERT INTO revocation_log (kind, spiffe_id, at) VALUES ('identity', 'spiffe://x/a', 1)");
    expect(await heard).toBeLessThan(1000);
    await sleep(100);
    expect(revocations.runs()).toBe(r0 + 1);
    expect(keys.runs(), 'a revocation is not a key change').toBe(k0);

    await writer
      .transaction(async (tx) => {
        await tx.query("INSERT INTO revocation_log (kind, spiffe_id, at) VALUES ('identity', 'spiffe://x/b', 2)");
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await sleep(300);
    expect(revocations.runs(), 'a rolled-back write announces nothing').toBe(r0 + 1);

    const rotated = keys.next('a key');
    await writer.query("INSERT INTO delegation_keys (kid, sealed, created_at) VALUES ('k9', 'x', 1)");
    await rotated;
  });

  it('a feed whose connection is cut reconnects and runs every reader once, then hears writes again', async () => {
    const t = await fresh();
    const listener = await pool(t.url, { applicationName: 'feedtest' });
    const settings = reader();
    listener.onChange('settings', settings.fn);
    await settings.next('the first connect');

    const admin = new pg.Client({ connectionString: t.url });
    await admin.connect();
    try {
      const again = settings.next('the reconnect');
      const { rows } = await admin.query<{ n: number }>(
        "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'feedtest changes' AND datname = current_database()",
      );
      expect(rows[0].n, 'the feed has one connection').toBe(1);
      await again;
      const written = settings.next('a settings write after the reconnect');
      await admin.query("INSERT INTO settings (section, value, version, updated_at, updated_by) VALUES ('policy', '[]', 1, 1, 'test')");
      await written;
    } finally {
      await admin.end();
    }
  });
});
