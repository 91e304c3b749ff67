import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, baseConfig, id, type E2e } from './harness.js';
import { startStandInUpstream, handlers, type StandInUpstream } from '../fakes/upstream.js';
import { mtlsClient, type MtlsClient, messageSend } from '../fakes/mtls-client.js';
import { runCtl } from '../../cli/ctl/index.js';
import type { SvidMaterial } from '../../agent-bootstrap/material.js';

/**
 * The control plane against the real data plane: admin writes and config reloads change what the proxy
 * does on connections that are already open, and a bad reload changes nothing.
 */
let e: E2e;
let writer: StandInUpstream;
let alice: MtlsClient;
let adminDir: string;
let aliceId: SvidMaterial;

async function ctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCtl([...args, '--server', e.control, '--cert-dir', adminDir], { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

beforeAll(async () => {
  e = await startE2e(baseConfig());
  const writerId = await e.enroll(id('agent/writer'));
  writer = await startStandInUpstream({ ...writerId, handler: handlers.jsonRpcOk() });
  adminDir = e.certDir(await e.enroll(id('admin/ops')));
  aliceId = await e.enroll(id('user/alice'));
  // one connection, kept alive: every request below rides the same TLS session
  alice = mtlsClient(aliceId, aliceId.bundlePem, { connections: 1 });
  // the registry starts empty: register the writer through the admin API, as an operator would
  const put = await ctl('agents', 'put', 'writer', '--url', writer.url, '--id', id('agent/writer'));
  expect(put.code, put.err).toBe(0);
}, 60_000);

afterAll(async () => {
  await alice?.close();
  await writer?.close();
  await e?.close();
});

describe('admin writes reach the proxy at once, on open connections', () => {
  it('a policy set through `tollgate ctl` applies to the next request of an open keep-alive connection', async () => {
    const before = await alice.fetch(`${e.proxyUrl}/a2a/writer/`, messageSend(1));
    expect(before.status).toBe(403); // default deny
    expect(((await before.json()) as { id: number }).id).toBe(1);
    expect(writer.requests).toHaveLength(0);

    const rules = path.join(e.dir, 'rules.yaml');
    fs.writeFileSync(rules, `- from: ${id('user/*')}\n  to: [writer]\n  methods: [message/send]\n`);
    const set = await ctl('policy', 'set', '--file', rules);
    expect(set.code, set.err).toBe(0);

    const after = await alice.fetch(`${e.proxyUrl}/a2a/writer/`, messageSend(2));
    expect(after.status).toBe(200);
    await after.arrayBuffer();
    expect(writer.requests).toHaveLength(1);
    expect(writer.requests[0].headers['x-forwarded-client-cert']).toBe(`By=${id('tollgate/gateway')};URI=${id('user/alice')}`);
  });

  it('a stale policy version is refused (ABORTED) and changes nothing', async () => {
    const rules = path.join(e.dir, 'deny.yaml');
    fs.writeFileSync(rules, `- from: ${id('agent/nobody')}\n  to: [writer]\n`);
    const stale = await ctl('policy', 'set', '--file', rules, '--version', '0');
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/ABORTED|changed|version/i);
    const still = await alice.fetch(`${e.proxyUrl}/a2a/writer/`, messageSend(3));
    expect(still.status).toBe(200);
    await still.arrayBuffer();
  });

  it('revoking the caller through the admin API stops its calls on the open connection within a second', async () => {
    const bob = await e.enroll(id('user/bob'));
    const client = mtlsClient(bob, bob.bundlePem, { connections: 1 });
    try {
      const ok = await client.fetch(`${e.proxyUrl}/a2a/writer/`, messageSend(10));
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
      const r = await ctl('revoke', '--spiffe-id', id('user/bob'), '--reason', 'test');
      expect(r.code, r.err).toBe(0);
      const deadline = Date.now() + 1000;
      let status = 0;
      while (Date.now() < deadline) {
        const res = await client.fetch(`${e.proxyUrl}/a2a/writer/`, messageSend(11));
        status = res.status;
        await res.arrayBuffer();
        if (status !== 200) break;
        await new Promise((r2) => setTimeout(r2, 50));
      }
      expect([401, 403]).toContain(status);
    } finally {
      await client.close();
    }
  });
});

describe('config reload (what SIGHUP runs)', () => {
  it('a config that fails validation is refused and the running config stays in force', async () => {
    const good = fs.readFileSync(e.configPath, 'utf8');
    fs.writeFileSync(e.configPath, `${good}\nrateLimits: { perCaller: { rps: -1, burst: 1 } }\n`);
    await expect(e.tg.reload()).rejects.toThrow(/rateLimits\.perCaller\.rps/);
    const res = await alice.fetch(`${e.proxyUrl}/a2a/writer/`, messageSend(20));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    fs.writeFileSync(e.configPath, good);
  });

  it('a valid reload applies to the open connection: a per-caller limit now trips with 429 + Retry-After', async () => {
    const good = fs.readFileSync(e.configPath, 'utf8');
    fs.writeFileSync(e.configPath, `${good}\nrateLimits: { perCaller: { rps: 0.1, burst: 1 } }\n`);
    await e.tg.reload();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await alice.fetch(`${e.proxyUrl}/a2a/writer/`, messageSend(30 + i));
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
      await res.arrayBuffer();
    }
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    fs.writeFileSync(e.configPath, good);
    await e.tg.reload();
  });
});

describe('settings reset through ctl', () => {
  it("puts the config file's policy (here none: default deny) back in force on the open connection", async () => {
    const ok = await alice.fetch(`${e.proxyUrl}/a2a/writer/`, messageSend(40));
    expect(ok.status).toBe(200); // the policy saved through ctl above
    await ok.arrayBuffer();
    const r = await ctl('settings', 'reset', '--policy');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('policy reset');
    const denied = await alice.fetch(`${e.proxyUrl}/a2a/writer/`, messageSend(41));
    expect(denied.status).toBe(403);
    expect(JSON.stringify(await denied.json())).toContain('no_rule');
  });
});
