/**
 * Issue #12, fleet mode: the database going away does not stop traffic. Two replicas on a PostgreSQL server
 * of this test's own (test/fleet/private-pg.ts: a real `pg_ctl stop`, not a cut socket), calls flowing through
 * both on open connections; the server is stopped for 5 s. No proxied call fails; tollgate_store_up goes
 * to 0 and back to 1; bootstrap answers UNAVAILABLE with the store's message during the outage and works
 * after it, with the same token (the failed attempt did not burn it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, id, within, type Fleet, type ReplicaName } from './harness.js';
import { startPrivatePostgres, type PrivatePostgres } from './private-pg.js';
import { startStandInUpstream, handlers, type StandInUpstream } from '../fakes/upstream.js';
import { mtlsClient, messageSend, type MtlsClient } from '../fakes/mtls-client.js';
import { bootstrap, BootstrapError } from '../../agent-bootstrap/index.js';

const OUTAGE_MS = 5000;

let db: PrivatePostgres;
let f: Fleet;
let writer: StandInUpstream;
const clients: MtlsClient[] = [];

beforeAll(async () => {
  db = await startPrivatePostgres();
  f = await startFleet({ store: db.url });
  const writerId = await f.enroll(id('agent/writer'), 'B');
  writer = await startStandInUpstream({ ...writerId, handler: handlers.jsonRpcOk() });
  expect((await f.ctl('A', 'agents', 'put', 'writer', '--url', writer.url, '--id', id('agent/writer'))).code).toBe(0);
  const rules = path.join(f.work, 'rules.yaml');
  fs.writeFileSync(rules, `- { from: ${id('user/*')}, to: [writer] }\n`);
  expect((await f.ctl('A', 'policy', 'set', '--file', rules)).code).toBe(0);
  // the registry and policy written through A are in force on B (its settings poll) before the traffic starts
  const probe = await f.enroll(id('user/probe'), 'A');
  const c = mtlsClient(probe, probe.bundlePem, { connections: 1 });
  clients.push(c);
  await within('the policy on B', 3000, async () => (await c.fetch(`${f.b.proxyUrl}/a2a/writer/`, messageSend(0))).status === 200, 50);
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await writer?.close();
  await f?.close();
  db?.destroy();
});

describe('PostgreSQL stopped for 5 s while traffic flows', () => {
  it('no proxied call fails; store_up goes 0 and back to 1; bootstrap fails clearly (UNAVAILABLE) during the outage, then works', async () => {
    const alice = await f.enroll(id('user/alice'), 'A');
    const token = await f.token(id('agent/late'), 'B'); // made before the outage, redeemed during and after it
    for (const on of ['A', 'B'] as const) expect(await f.metric(on, 'tollgate_store_up'), f.replica(on).proc.stderr().slice(-3000)).toBe(1);

    // traffic on one kept-alive connection per replica, call after call, until told to stop
    let flowing = true;
    const results = { ok: 0, failed: [] as string[] };
    const flow = async (on: ReplicaName) => {
      const c = mtlsClient(alice, alice.bundlePem, { connections: 1 });
      clients.push(c);
      for (let n = 0; flowing; n++) {
        try {
          const res = await c.fetch(`${f.replica(on).proxyUrl}/a2a/writer/`, messageSend(n));
          const text = await res.text();
          if (res.status === 200) results.ok++;
          else results.failed.push(`${on} #${n}: ${res.status} ${text.slice(0, 200)}`);
        } catch (e) {
          results.failed.push(`${on} #${n}: ${String(e)}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const traffic = [flow('A'), flow('B')];
    await new Promise((r) => setTimeout(r, 300));
    const beforeOutage = results.ok;
    expect(beforeOutage).toBeGreaterThan(0);

    db.stop(); // pg_ctl stop -m fast -w: the server is down when this returns
    const stoppedAt = performance.now();
    const downSeen = await within(
      'store_up 0 on both replicas',
      3000,
      async () => (await f.metric('A', 'tollgate_store_up')) === 0 && (await f.metric('B', 'tollgate_store_up')) === 0,
      50,
    );

    // bootstrap during the outage: the CA answers, UNAVAILABLE, naming the store
    const t = performance.now();
    const refused = await bootstrap({ server: f.b.control, token, fingerprint: f.fp }).catch((e: unknown) => e);
    const refusedIn = performance.now() - t;
    expect(refused).toBeInstanceOf(BootstrapError);
    const err = refused as BootstrapError;
    expect({ code: err.code, status: err.grpcStatus, reason: err.reason }).toEqual({ code: 'unavailable', status: 'UNAVAILABLE', reason: 'storage' });
    expect(err.message).toContain('the CA store is unavailable; retry later');
    expect(err.message).toContain('answered but cannot serve Bootstrap now');
    // an admin write fails cleanly too
    const write = await f.ctl('A', 'agents', 'put', 'reader', '--url', 'https://127.0.0.1:9', '--id', id('agent/reader'));
    expect(write.code).toBe(1);
    expect(write.err).toMatch(/UNAVAILABLE|unavailable/);

    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (performance.now() - stoppedAt))));
    const syncAge = await f.metric('B', 'tollgate_store_sync_age_seconds');
    expect(syncAge).toBeGreaterThan(3);
    const duringOutage = results.ok - beforeOutage;
    db.start();
    const startedAt = performance.now();
    const upSeen = await within(
      'store_up 1 on both replicas',
      5000,
      async () => (await f.metric('A', 'tollgate_store_up')) === 1 && (await f.metric('B', 'tollgate_store_up')) === 1,
      50,
    );

    // bootstrap works again, with the same token: the refused attempt did not burn it
    const after = await bootstrap({ server: f.a.control, token, fingerprint: f.fp });
    expect(after.spiffeId).toBe(id('agent/late'));
    expect(await f.metric('B', 'tollgate_store_sync_age_seconds')).toBeLessThan(2);

    await new Promise((r) => setTimeout(r, 300));
    flowing = false;
    await Promise.all(traffic);
    expect(results.failed).toEqual([]);
    expect(duringOutage).toBeGreaterThan(50);
    console.log(
      `outage: store_up 0 on both ${downSeen.toFixed(0)} ms after pg_ctl stop, bootstrap refused in ${refusedIn.toFixed(0)} ms, ` +
        `sync age ${syncAge.toFixed(1)} s at ${OUTAGE_MS} ms, store_up 1 on both ${upSeen.toFixed(0)} ms after pg_ctl start ` +
        `(${(startedAt - stoppedAt).toFixed(0)} ms down); ${results.ok} proxied calls, ${duringOutage} during the outage, 0 failed`,
    );
  }, 60_000);
});
