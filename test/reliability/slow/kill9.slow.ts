import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild, sid, envNum, type ChildGateway } from './child.js';
import { bootstrap } from '../../../agent-bootstrap/index.js';
import { report } from '../helpers.js';

/**
 * kill -9 during 200 concurrent bootstraps (REDTEAM_KILL9_N). Afterwards, in the CA's SQLite DB, every join
 * token must be either unused or matched by a recorded certificate for its identity (redemption and
 * issuance all-or-nothing), and every certificate a client received must be recorded. Then the gateway is
 * started again on the same data dir: every unused token still bootstraps.
 */
let g: ChildGateway;
const N = envNum('REDTEAM_KILL9_N', 200);
const tokens: { id: string; token: string }[] = [];
const got = new Map<string, string>(); // spiffe id -> serial the client received
const errs: string[] = [];
let row: { used: number; unusedLeft: number; burnedWithoutCert: string[]; certNotRecorded: string[]; killedAfterMs: number } | undefined;
let redeemedAfterRestart = 0;
let unusedAfterRestart = 0;

beforeAll(async () => {
  g = await startChild({ noUpstream: true });
  for (let i = 0; i < N; i++) tokens.push({ id: sid(`agent/k9-${i}`), token: await g.token(sid(`agent/k9-${i}`)) });
  // 200 bootstraps at once; kill -9 as soon as the first one completes (the CA is then mid-burst)
  const t0 = performance.now();
  const all = tokens.map(({ id, token }) =>
    bootstrap({ server: g.control, token, fingerprint: g.fp })
      .then((m) => void got.set(id, m.serial))
      .catch((e: unknown) => void errs.push((e as Error).message.slice(0, 80))),
  );
  while (got.size < 1 && performance.now() - t0 < 20_000) await new Promise((r) => setImmediate(r));
  const killedAfterMs = Math.round(performance.now() - t0);
  await g.stop('SIGKILL');
  await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, 30_000))]);

  const db = new Database(path.join(g.dataDir, 'tollgate.db'), { readonly: true });
  const used = new Set((db.prepare('select spiffe_id from tokens where used_at is not null').all() as { spiffe_id: string }[]).map((r) => r.spiffe_id));
  const issued = new Map<string, Set<string>>();
  for (const r of db.prepare('select spiffe_id, serial from issued').all() as { spiffe_id: string; serial: string }[]) {
    if (!issued.has(r.spiffe_id)) issued.set(r.spiffe_id, new Set());
    issued.get(r.spiffe_id)!.add(r.serial.toLowerCase().replace(/^0+/, ''));
  }
  db.close();
  const ids = tokens.map((t) => t.id);
  row = {
    used: ids.filter((id) => used.has(id)).length,
    unusedLeft: ids.filter((id) => !used.has(id)).length,
    burnedWithoutCert: ids.filter((id) => used.has(id) && !issued.has(id)),
    certNotRecorded: [...got].filter(([id, serial]) => !issued.get(id)?.has(serial.toLowerCase().replace(/^0+/, ''))).map(([id]) => id),
    killedAfterMs,
  };

  await g.restart();
  const unused = tokens.filter((t) => !used.has(t.id));
  unusedAfterRestart = unused.length;
  for (const t of unused.slice(0, 50)) {
    try {
      await bootstrap({ server: g.control, token: t.token, fingerprint: g.fp });
      redeemedAfterRestart++;
    } catch {
      // counted below
    }
  }
  report('kill9_bootstraps', {
    concurrent: N,
    killed_after_ms: row.killedAfterMs,
    client_got_cert: got.size,
    client_errors: errs.length,
    tokens_used: row.used,
    tokens_unused: row.unusedLeft,
    burned_without_cert: row.burnedWithoutCert.length,
    cert_given_not_recorded: row.certNotRecorded.length,
    unused_redeemed_after_restart: `${redeemedAfterRestart}/${Math.min(50, unusedAfterRestart)}`,
  });
}, 300_000);
afterAll(async () => g?.cleanup());

describe('red team (slow): kill -9 during 200 concurrent bootstraps', () => {
  it('the kill landed mid-burst (some done, some not)', () => {
    expect(got.size).toBeGreaterThan(0);
    expect(got.size).toBeLessThan(N);
  });

  it('every certificate a client received is recorded in the DB', () => {
    expect(row!.certNotRecorded).toEqual([]);
  });

  // A race: it fails only when the kill lands between a token's redemption and its certificate's record, so
  // it is a plain case (it.fails would be flaky): red when the gap shows, green when this run missed it.
  it('every token is unused or matched with a recorded certificate [known gap: token redemption not all-or-nothing on kill -9]', () => {
    expect(row!.burnedWithoutCert).toEqual([]);
  });

  it('after a restart, unused tokens still bootstrap', () => {
    expect(redeemedAfterRestart).toBe(Math.min(50, unusedAfterRestart));
  });
});
