/**
 * Issue #12, fleet mode, crashes and restarts: `kill -9` of replica A while 200 agents bootstrap over A and B
 * leaves no token with two certificates, no certificate handed out unrecorded, and every answered agent with
 * a working SVID; then a restart of both replicas loses nothing (tokens, certificates, revocations,
 * settings, delegation keys).
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, id, type Fleet, type ReplicaName } from './harness.js';
import { startStandInUpstream, handlers, type StandInUpstream } from '../fakes/upstream.js';
import { mtlsClient, messageSend } from '../fakes/mtls-client.js';
import { bootstrap, BootstrapError, type SvidMaterial } from '../../agent-bootstrap/index.js';
import { pemBlocks } from '../../certs/pem.js';

const N = 200;
const CRASH = id('crash');

let f: Fleet;
const upstreams: Record<string, StandInUpstream> = {};
let writerId: SvidMaterial;

/** what each of the N bootstraps ended with */
interface Attempt {
  i: number;
  spiffeId: string;
  token: string;
  on: ReplicaName;
  svid?: SvidMaterial;
  error?: BootstrapError;
}
let attempts: Attempt[] = [];

/** one call through a replica's proxy with a fresh mTLS connection */
async function callWith(m: SvidMaterial, on: ReplicaName, agent: string, delegation?: string) {
  const c = mtlsClient(m, m.bundlePem, { connections: 1 });
  try {
    const init = messageSend(1);
    if (delegation) init.headers = { ...(init.headers as Record<string, string>), 'tollgate-delegation': delegation };
    const res = await c.fetch(`${f.replica(on).proxyUrl}/a2a/${agent}/`, init);
    return { status: res.status, text: await res.text() };
  } finally {
    await c.close();
  }
}

/** run `fn` over `items`, `width` at a time */
async function inBatches<T, R>(items: T[], width: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

beforeAll(async () => {
  f = await startFleet();
  writerId = await f.enroll(id('agent/writer'), 'B');
  upstreams.writer = await startStandInUpstream({ ...writerId, handler: handlers.jsonRpcOk() });
  const readerId = await f.enroll(id('agent/reader'), 'A');
  upstreams.reader = await startStandInUpstream({ ...readerId, handler: handlers.jsonRpcOk() });
  for (const name of ['writer', 'reader']) {
    const put = await f.ctl('A', 'agents', 'put', name, '--url', upstreams[name].url, '--id', id(`agent/${name}`));
    expect(put.code, put.err).toBe(0);
  }
  const rules = path.join(f.work, 'rules.yaml');
  fs.writeFileSync(
    rules,
    `- { from: ${CRASH}/*, to: [writer] }\n- { from: ${id('user/alice')}, to: [writer] }\n- { from: ${id('agent/writer')}, to: [reader] }\n`,
  );
  const set = await f.ctl('A', 'policy', 'set', '--file', rules);
  expect(set.code, set.err).toBe(0);
}, 60_000);

afterAll(async () => {
  for (const u of Object.values(upstreams)) await u.close();
  await f?.close();
});

describe('kill -9 of a replica during 200 concurrent bootstraps', () => {
  it('no token gave two certificates, every certificate handed out is recorded and chains to the root, every answered agent can call through B', async () => {
    const ids = Array.from({ length: N }, (_, i) => `${CRASH}/agent-${i}`);
    const tokens = await inBatches(ids, 50, (s) => f.token(s, 'B'));
    const server = { A: f.a.control, B: f.b.control };
    let answeredByA = 0;
    let fire!: () => void;
    const tenAnsweredByA = new Promise<void>((r) => (fire = r));
    const t0 = performance.now();
    const running = ids.map((spiffeId, i): Promise<Attempt> => {
      const on: ReplicaName = i % 2 ? 'B' : 'A';
      const a: Attempt = { i, spiffeId, token: tokens[i], on };
      return bootstrap({ server: server[on], token: tokens[i], fingerprint: f.fp, deadlineMs: 30_000 }).then(
        (svid) => {
          if (on === 'A' && ++answeredByA === 10) fire();
          return { ...a, svid };
        },
        (error: unknown) => ({ ...a, error: error as BootstrapError }),
      );
    });
    await tenAnsweredByA;
    const killedAt = performance.now() - t0;
    await f.kill('A');
    attempts = await Promise.all(running);
    const settled = performance.now() - t0;
    await f.start('A');
    const restarted = performance.now() - t0;

    const failed = attempts.filter((a) => a.error);
    const answered = attempts.filter((a) => a.svid);
    // the kill really was "during": some of A's bootstraps were cut, every one of B's went through
    expect(failed.length).toBeGreaterThan(0);
    expect(attempts.filter((a) => a.on === 'B' && a.error).map((a) => String(a.error))).toEqual([]);
    for (const a of failed) {
      expect(a.error, String(a.error)).toBeInstanceOf(BootstrapError);
      expect(a.error!.code, a.error!.message).toBe('unavailable');
    }

    // the database: a token is used exactly when it names a certificate, and no identity has two
    const tokenRows = await f.query<{ spiffe_id: string; used_at: number | null; serial: string | null }>(
      'SELECT spiffe_id, used_at, serial FROM join_tokens WHERE spiffe_id LIKE $1',
      [`${CRASH}/%`],
    );
    expect(tokenRows).toHaveLength(N);
    for (const t of tokenRows) expect(t.used_at === null, `token of ${t.spiffe_id}: used ${t.used_at}, serial ${t.serial}`).toBe(t.serial === null);
    const issued = await f.query<{ serial: string; spiffe_id: string; not_before: number; not_after: number }>(
      'SELECT serial, spiffe_id, not_before, not_after FROM issued WHERE spiffe_id LIKE $1',
      [`${CRASH}/%`],
    );
    expect(new Set(issued.map((r) => r.spiffe_id)).size, 'an identity got two certificates').toBe(issued.length);
    const withSerial = tokenRows.filter((t) => t.serial !== null);
    expect(issued).toHaveLength(withSerial.length);
    const issuedBySerial = new Map(issued.map((r) => [r.serial, r]));
    for (const t of withSerial) expect(issuedBySerial.get(t.serial!)?.spiffe_id).toBe(t.spiffe_id);
    const now = Date.now();
    for (const r of issued) expect(r.not_before <= now && now < r.not_after, r.serial).toBe(true);

    // every certificate handed out is one the store recorded, for that token, and chains to the fleet's root
    const root = new X509Certificate(fs.readFileSync(path.join(f.a.dataDir, 'bundle.pem')));
    expect(`sha256:${root.fingerprint256.replace(/:/g, '').toLowerCase()}`).toBe(f.fp);
    for (const a of answered) {
      const m = a.svid!;
      expect(issuedBySerial.get(m.serial)?.spiffe_id, `${a.spiffeId}: serial ${m.serial} not recorded`).toBe(a.spiffeId);
      const [leaf, intermediate] = pemBlocks(m.certChainPem).map((d) => new X509Certificate(d));
      expect(leaf.checkIssued(intermediate) && leaf.verify(intermediate.publicKey), `${a.spiffeId}: leaf`).toBe(true);
      expect(intermediate.checkIssued(root) && intermediate.verify(root.publicKey), `${a.spiffeId}: intermediate`).toBe(true);
    }

    // every answered agent holds a working SVID: an mTLS call through B
    const statuses = await inBatches(answered, 25, async (a) => (await callWith(a.svid!, 'B', 'writer')).status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    // the tokens A never got to redeem were not burned: the restarted A redeems them
    const unredeemed = failed.filter((a) => tokenRows.find((t) => t.spiffe_id === a.spiffeId)!.serial === null);
    const lostAnswers = failed.length - unredeemed.length;
    const again = await inBatches(unredeemed, 25, (a) => bootstrap({ server: f.a.control, token: a.token, fingerprint: f.fp }));
    expect(again.map((m) => m.spiffeId)).toEqual(unredeemed.map((a) => a.spiffeId));
    console.log(
      `kill -9 of A after ${killedAt.toFixed(0)} ms (A had answered 10): ${answered.length} answered (${answered.length - N / 2} by A), ` +
        `${failed.length} cut (${lostAnswers} recorded but unanswered: A died between commit and reply), all settled at ${settled.toFixed(0)} ms, ` +
        `A back at ${restarted.toFixed(0)} ms; ${unredeemed.length} unburned tokens redeemed on the restarted A`,
    );
  }, 60_000);
});

describe('a restart of both replicas', () => {
  it('loses nothing: tokens, certificates, revocations, settings, delegation keys', async () => {
    const ok = attempts.filter((a) => a.svid);
    expect(ok.length).toBeGreaterThan(3);
    const [byIdentity, bySerial, control] = ok;
    const usedToken = control.token;
    const freshToken = await f.token(id('restart/fresh'), 'A');
    expect((await f.ctl('A', 'revoke', '--spiffe-id', byIdentity.spiffeId)).code).toBe(0);
    expect((await f.ctl('B', 'revoke', '--serial', bySerial.svid!.serial)).code).toBe(0);
    const policy = await f.admin<{ version: number; rules: unknown[] }>('B', 'GetPolicy', {});
    const agents = await f.admin<{ version: number; agents: unknown[] }>('A', 'ListAgents', {});
    const certs = await f.admin<{ certificates: { serial: string; revoked: boolean }[] }>('B', 'ListCertificates', { limit: 10_000 });
    // a delegation context signed before the restart: alice -> writer through A
    const alice = await f.enroll(id('user/alice'), 'A');
    expect((await callWith(alice, 'A', 'writer')).status).toBe(200);
    const context = upstreams.writer.requests.at(-1)!.headers['tollgate-delegation'] as string;
    const kids = (await f.query<{ kid: string }>('SELECT kid FROM delegation_keys ORDER BY kid')).map((r) => r.kid);

    const t0 = performance.now();
    await Promise.all([f.stop('A'), f.stop('B')]);
    await Promise.all([f.start('A'), f.start('B')]);
    const took = performance.now() - t0;
    // a replica that just started has just read its store: it reports it up at once, not after its first poll
    for (const on of ['A', 'B'] as const) expect(await f.metric(on, 'tollgate_store_up'), `replica ${on}`).toBe(1);

    // tokens: the fresh one is still good (at B), the used one still used (at A)
    expect((await bootstrap({ server: f.b.control, token: freshToken, fingerprint: f.fp })).spiffeId).toBe(id('restart/fresh'));
    const reused = await bootstrap({ server: f.a.control, token: usedToken, fingerprint: f.fp }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(BootstrapError);
    expect((reused as BootstrapError).reason).toBe('token_used');
    // certificates: every one listed before is listed after, with its revocation
    const after = await f.admin<{ certificates: { serial: string; revoked: boolean }[] }>('A', 'ListCertificates', { limit: 10_000 });
    const afterBySerial = new Map(after.certificates.map((c) => [c.serial, c]));
    for (const c of certs.certificates) expect(afterBySerial.has(c.serial), c.serial).toBe(true);
    expect(afterBySerial.get(byIdentity.svid!.serial)?.revoked).toBe(true);
    // revocations: both kinds enforced by both replicas; the control identity still works
    for (const on of ['A', 'B'] as const) {
      expect((await callWith(byIdentity.svid!, on, 'writer')).status).toBe(403);
      expect((await callWith(bySerial.svid!, on, 'writer')).status).toBe(403);
      expect((await callWith(control.svid!, on, 'writer')).status).toBe(200);
    }
    // settings: the same versions and content on both
    for (const on of ['A', 'B'] as const) {
      expect(await f.admin(on, 'GetPolicy', {})).toEqual(policy);
      expect(await f.admin(on, 'ListAgents', {})).toEqual(agents);
    }
    // delegation keys: the context signed before the restart verifies on B, and no key was made anew
    const onward = await callWith(writerId, 'B', 'reader', context);
    expect(onward.status, onward.text).toBe(200);
    expect((await f.query<{ kid: string }>('SELECT kid FROM delegation_keys ORDER BY kid')).map((r) => r.kid)).toEqual(kids);
    console.log(`restart of both replicas: ${took.toFixed(0)} ms from SIGTERM to both banners`);
  }, 60_000);
});
