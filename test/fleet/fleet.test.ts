/**
 * Issue #12, fleet mode: two `tollgate serve` replicas on one PostgreSQL database keep the README's promises
 * fleet-wide. A join token is single use across both; a revocation or a policy written through A is in force
 * on B within a second, on a connection B already has open; a delegation context signed by one replica is
 * verified by the other, and a loop whose hops alternate replicas is cut at its first revisit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, id, within, type Fleet, type ReplicaName } from './harness.js';
import { startStandInUpstream, handlers, type StandInUpstream } from '../fakes/upstream.js';
import { mtlsClient, messageSend, type MtlsClient } from '../fakes/mtls-client.js';
import { bootstrap, renew, BootstrapError, type SvidMaterial } from '../../agent-bootstrap/index.js';

let f: Fleet;
const upstreams: Record<string, StandInUpstream> = {};
const opened: MtlsClient[] = [];

const AGENTS = ['writer', 'orchestrator', 'researcher', 'reviewer'] as const;

function rulesFile(name: string, rules: string): string {
  const file = path.join(f.work, name);
  fs.writeFileSync(file, rules);
  return file;
}

const BASE_RULES = `- { from: ${id('user/alice')}, to: [writer] }
- { from: ${id('user/carol')}, to: [orchestrator] }
- { from: ${id('agent/orchestrator')}, to: [researcher] }
- { from: ${id('agent/researcher')}, to: [reviewer] }
- { from: ${id('agent/reviewer')}, to: [orchestrator] }
`;

/** an mTLS client holding ONE keep-alive connection; `connects` counts the TLS connections it opened */
function client(m: SvidMaterial) {
  const c = mtlsClient(m, m.bundlePem, { connections: 1 });
  opened.push(c);
  let connects = 0;
  c.agent.on('connect', () => connects++);
  return Object.assign(c, { connects: () => connects });
}

async function post(c: MtlsClient, on: ReplicaName, agent: string, rpcId: number, delegation?: string) {
  const init = messageSend(rpcId);
  if (delegation) init.headers = { ...(init.headers as Record<string, string>), 'tollgate-delegation': delegation };
  const res = await c.fetch(`${f.replica(on).proxyUrl}/a2a/${agent}/`, init);
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as { error?: { message: string; data?: Record<string, unknown> } } };
}

beforeAll(async () => {
  f = await startFleet();
  // the upstream agents, enrolled at either replica, registered through A
  for (const [i, name] of AGENTS.entries()) {
    const m = await f.enroll(id(`agent/${name}`), i % 2 ? 'B' : 'A');
    upstreams[name] = await startStandInUpstream({ ...m, handler: handlers.jsonRpcOk() });
    const put = await f.ctl('A', 'agents', 'put', name, '--url', upstreams[name].url, '--id', id(`agent/${name}`));
    expect(put.code, put.err).toBe(0);
  }
  const set = await f.ctl('A', 'policy', 'set', '--file', rulesFile('base.yaml', BASE_RULES));
  expect(set.code, set.err).toBe(0);
}, 60_000);

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => undefined);
  for (const u of Object.values(upstreams)) await u.close();
  await f?.close();
});

describe('a join token is single use across the fleet', () => {
  it('50 concurrent redemptions of one token, split over A and B: exactly one certificate, 49 token_used', async () => {
    const spiffeId = id('agent/race');
    const token = await f.token(spiffeId, 'B');
    const t0 = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        bootstrap({ server: f.replica(i % 2 ? 'B' : 'A').control, token, fingerprint: f.fp, deadlineMs: 20_000 }).then((m) => ({ m, on: i % 2 })),
      ),
    );
    const took = performance.now() - t0;
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as BootstrapError);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    for (const e of lost) {
      expect(e, String(e)).toBeInstanceOf(BootstrapError);
      expect({ reason: e.reason, status: e.grpcStatus }).toEqual({ reason: 'token_used', status: 'UNAUTHENTICATED' });
    }
    const serial = won[0].value.m.serial;
    // the store agrees: one certificate for that identity, and the token names it
    expect(await f.query('SELECT serial FROM issued WHERE spiffe_id = $1', [spiffeId])).toEqual([{ serial }]);
    expect(await f.query('SELECT serial FROM join_tokens WHERE spiffe_id = $1', [spiffeId])).toEqual([{ serial }]);
    console.log(`50 redemptions over both replicas: ${took.toFixed(0)} ms, won on ${won[0].value.on ? 'B' : 'A'}`);
  });
});

describe('one CA across the fleet', () => {
  it('an agent bootstrapped at A renews at B (a different intermediate signs), and that SVID renews at A', async () => {
    const first = await f.enroll(id('agent/renewer'), 'A');
    const renewed = await renew(f.replica('B').control, first);
    expect(renewed.spiffeId).toBe(first.spiffeId);
    expect(renewed.serial).not.toBe(first.serial);
    // a different intermediate signed it: each replica signs with its own
    expect(renewed.certChainPem.split('-----END CERTIFICATE-----')[1]).not.toBe(first.certChainPem.split('-----END CERTIFICATE-----')[1]);
    // and back again: the SVID B signed renews at A
    const again = await renew(f.replica('A').control, renewed);
    expect(again.spiffeId).toBe(first.spiffeId);
  });
});

describe('an admin write on A is in force on B within a second, on connections B has open', () => {
  it('`tollgate ctl revoke` on A: the keep-alive connection open on B is refused within 1 s', async () => {
    const alice = client(await f.enroll(id('user/alice'), 'B'));
    // the policy written through A has reached B (its settings poll), and the connection is open
    await within('policy on B', 3000, async () => (await post(alice, 'B', 'writer', 1)).status === 200);
    const r = await f.ctl('A', 'revoke', '--spiffe-id', id('user/alice'), '--reason', 'fleet test');
    const revokedAt = performance.now();
    expect(r.code, r.err).toBe(0);
    let last = { status: 0, text: '' };
    const took = await within('the revocation on B', 2000, async () => {
      last = await post(alice, 'B', 'writer', 2);
      return last.status !== 200;
    });
    const sinceReturn = performance.now() - revokedAt;
    expect(last.status, last.text).toBe(403);
    expect(JSON.parse(last.text)).toMatchObject({ error: { data: { reason: 'revoked' } } });
    expect(sinceReturn).toBeLessThan(1000);
    expect(alice.connects(), 'the refusal came on the connection opened before the revoke').toBe(1);
    // and on A, where the revoke was made (a new connection)
    expect((await post(alice, 'A', 'writer', 3)).status).toBe(403);
    console.log(`revoke on A -> refused on B: ${sinceReturn.toFixed(0)} ms after the revoke returned (${took.toFixed(0)} ms of polling)`);
  });

  it('`tollgate ctl policy set` on A: in force on B within 1 s; a stale version is refused on B too', async () => {
    const bob = client(await f.enroll(id('user/bob'), 'A'));
    const denied = await post(bob, 'B', 'writer', 10);
    expect(denied.status, denied.text).toBe(403); // default deny: bob is in no rule
    const before = await f.admin<{ version: number }>('A', 'GetPolicy', {});
    const set = await f.ctl('A', 'policy', 'set', '--file', rulesFile('bob.yaml', `${BASE_RULES}- { from: ${id('user/bob')}, to: [writer] }\n`));
    const setAt = performance.now();
    expect(set.code, set.err).toBe(0);
    expect(set.out).toContain(`policy version ${before.version + 1}`);
    await within('the policy on B', 2000, async () => (await post(bob, 'B', 'writer', 11)).status === 200);
    const sinceReturn = performance.now() - setAt;
    expect(sinceReturn).toBeLessThan(1000);
    expect(bob.connects()).toBe(1);

    // B refuses a write made against the version A replaced (optimistic concurrency is fleet-wide)
    const stale = await f.ctl(
      'B',
      'policy',
      'set',
      '--file',
      rulesFile('deny.yaml', `- { from: ${id('user/nobody')}, to: [writer] }\n`),
      '--version',
      String(before.version),
    );
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/ABORTED|version/);
    expect((await f.admin<{ version: number }>('B', 'GetPolicy', {})).version).toBe(before.version + 1);
    // nothing changed anywhere
    await new Promise((r) => setTimeout(r, 700));
    for (const on of ['A', 'B'] as const) expect((await post(bob, on, 'writer', 12)).status).toBe(200);
    console.log(`policy set on A -> in force on B: ${sinceReturn.toFixed(0)} ms after the set returned`);
  });
});

describe('delegation across replicas', () => {
  it('a context issued by A is verified by B; a loop whose hops alternate replicas is cut at its first revisit (508)', async () => {
    const ids: Record<string, MtlsClient> = {};
    for (const name of ['orchestrator', 'researcher', 'reviewer']) ids[name] = client(await f.enroll(id(`agent/${name}`), 'A'));
    ids.carol = client(await f.enroll(id('user/carol'), 'B'));
    const last = (agent: string) => upstreams[agent].requests.at(-1)!.headers['tollgate-delegation'] as string;

    // carol -> orchestrator through A: A signs the orchestrator's context
    expect((await post(ids.carol, 'A', 'orchestrator', 20)).status).toBe(200);
    const fromA = last('orchestrator');
    expect(fromA).toBeTruthy();

    // B refuses a context under the fleet's key id with a MAC it cannot have made (it does check the MAC)
    const signed = fromA.slice(0, fromA.lastIndexOf('.'));
    const forged = `${signed}.${createHmac('sha256', randomBytes(32)).update(signed).digest('base64url')}`;
    const refused = await post(ids.orchestrator, 'B', 'researcher', 21, forged);
    expect(refused.status, refused.text).toBe(403);
    expect(refused.json.error!.data).toMatchObject({ reason: 'context_bad_signature' });

    // orchestrator -> researcher through B with A's context: verified, and B signs the next one
    const seen = upstreams.researcher.requests.length;
    const verified = await post(ids.orchestrator, 'B', 'researcher', 22, fromA);
    expect(verified.status, verified.text).toBe(200);
    expect(upstreams.researcher.requests.length).toBe(seen + 1);
    const fromB = last('researcher');
    expect(fromB).not.toBe(fromA);

    // researcher -> reviewer through A with B's context, then reviewer -> orchestrator through B: the revisit
    expect((await post(ids.researcher, 'A', 'reviewer', 23, fromB)).status).toBe(200);
    const orchestratorCalls = upstreams.orchestrator.requests.length;
    const back = await post(ids.reviewer, 'B', 'orchestrator', 24, last('reviewer'));
    expect(back.status, back.text).toBe(508);
    expect(back.json.error!.message).toContain('orchestrator -> researcher -> reviewer -> orchestrator');
    expect(back.json.error!.data).toMatchObject({
      reason: 'loop',
      initiator: id('user/carol'),
      chain: [id('user/carol'), id('agent/orchestrator'), id('agent/researcher'), id('agent/reviewer'), id('agent/orchestrator')],
      closingEdge: { from: id('agent/reviewer'), to: id('agent/orchestrator') },
    });
    expect(upstreams.orchestrator.requests.length).toBe(orchestratorCalls);
  });
});

describe('metrics of a fleet without redis:', () => {
  it('export no tollgate_governance_backend_up (there is no shared governance backend to be down)', async () => {
    // a 0 there read as "governed calls refused, fail closed" and paged (TollgateGovernanceBackendDown)
    for (const on of ['A', 'B'] as const) {
      const text = await (await fetch(`${f.replica(on).metricsUrl}/metrics`)).text();
      expect(text).toContain('tollgate_store_up 1');
      expect(text).not.toContain('tollgate_governance_backend_up');
    }
  });
});
