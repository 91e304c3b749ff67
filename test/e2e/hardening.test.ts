/**
 * Hardening checks through the composed gateway (gateway/tollgate.ts, what `tollgate serve` runs): the
 * metrics listener's token, concurrency slots given back on every failure path, delegation contexts an
 * agent forged, tampered with or kept past expiry, the keep-alive idle timeout, JSON-RPC batches.
 * Identities are enrolled with join tokens over the real control API; upstreams are real mTLS servers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import https from 'node:https';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, baseConfig, id, type E2e } from './harness.js';
import { startStandInUpstream, handlers, type StandInUpstream, type UpstreamHandler } from '../fakes/upstream.js';
import { mtlsClient, type MtlsClient } from '../fakes/mtls-client.js';
import { startTollgate } from '../../gateway/tollgate.js';
import { UiError } from '../../ui/errors.js';
import type { SvidMaterial } from '../../agent-bootstrap/material.js';

const UI_TOKEN = 'ui-token-0123456789abcdef';
const MAX_BODY = 4096;
const IDLE_MS = 500;

let e: E2e;
let clock = 0; // ms added to the gateway's clock (the expired-context test moves it)
const upstreams: Record<string, StandInUpstream> = {};
const clients: Record<string, MtlsClient> = {};
const ids: Record<string, SvidMaterial> = {};

const rpc = (rpcId: number | string, text = 'go') =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: rpcId,
    method: 'message/send',
    params: { message: { kind: 'message', role: 'user', messageId: `m-${rpcId}`, parts: [{ kind: 'text', text }] } },
  });

type Answer = {
  status: number;
  headers: Headers;
  json: { id?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } } | undefined;
};

async function call(from: string, to: string, body: string, opts: { delegation?: string; path?: string; signal?: AbortSignal } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.delegation !== undefined) headers['tollgate-delegation'] = opts.delegation;
  const res = await clients[from].fetch(`${e.proxyUrl}/a2a/${to}/${opts.path ?? ''}`, { method: 'POST', headers, body, signal: opts.signal });
  const text = await res.text();
  let json: Answer['json'];
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json };
}

/** the context the gateway sent with the last request `agent` received */
const lastContext = (agent: string) => upstreams[agent].requests.at(-1)!.headers['tollgate-delegation'] as string;

async function series(name: string): Promise<number> {
  for (const line of (await e.tg.metrics.text()).split('\n')) if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1));
  return 0;
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The worker's answer depends on the path: /reset drops the connection, /slow never answers in time, /hold waits for release. */
const holdRelease: (() => void)[] = [];
const worker: UpstreamHandler = (req, res) => {
  if (req.url === '/reset') return handlers.reset()(req, res);
  if (req.url === '/slow') return handlers.slow(10_000)(req, res);
  if (req.url === '/hold') {
    return new Promise<void>((resolve) => {
      holdRelease.push(() => {
        if (!res.destroyed) void handlers.jsonRpcOk()(req, res);
        resolve();
      });
      res.once('close', () => resolve());
    });
  }
  return handlers.jsonRpcOk()(req, res);
};

beforeAll(async () => {
  e = await startE2e(
    baseConfig(`uiToken: ${UI_TOKEN}
maxBodyBytes: ${MAX_BODY}
timeouts: { upstream: 1s, idle: ${IDLE_MS}ms }
delegation: { tokenTtl: 1m }
`),
    { now: () => Date.now() + clock },
  );
  for (const name of ['orchestrator', 'researcher', 'worker']) {
    ids[name] = await e.enroll(id(`agent/${name}`));
    upstreams[name] = await startStandInUpstream({ ...ids[name], handler: name === 'worker' ? worker : handlers.jsonRpcOk() });
    clients[name] = mtlsClient(ids[name], ids[name].bundlePem);
  }
  ids.alice = await e.enroll(id('user/alice'));
  clients.alice = mtlsClient(ids.alice, ids.alice.bundlePem);
  fs.appendFileSync(
    e.configPath,
    `agents:
  orchestrator: { url: ${upstreams.orchestrator.url}, id: ${id('agent/orchestrator')} }
  researcher: { url: ${upstreams.researcher.url}, id: ${id('agent/researcher')} }
  worker: { url: ${upstreams.worker.url}, id: ${id('agent/worker')} }
policy:
  - { from: ${id('user/*')}, to: [orchestrator, worker] }
  - { from: ${id('agent/orchestrator')}, to: [researcher] }
rateLimits: { maxConcurrentPerCallee: 1 }
`,
  );
  await e.tg.reload();
}, 60_000);

afterAll(async () => {
  for (const release of holdRelease.splice(0)) release();
  for (const c of Object.values(clients)) await c.close();
  for (const u of Object.values(upstreams)) await u.close();
  await e?.close();
});

describe('the metrics listener: /graph and /ui need uiToken when it is set', () => {
  const get = (p: string, headers: Record<string, string> = {}) => fetch(`${e.metricsUrl}${p}`, { headers });

  it('refuses a missing or wrong token with 401 and serves the right one (query or Bearer)', async () => {
    for (const p of ['/graph', '/graph?format=dot', '/ui', '/ui/events']) {
      const missing = await get(p);
      expect(missing.status, `${p} without a token`).toBe(401);
      expect(await missing.text()).toMatch(/token is required/);
      const wrong = await get(`${p}${p.includes('?') ? '&' : '?'}token=${UI_TOKEN}x`);
      expect(wrong.status, `${p} with a wrong token`).toBe(401);
      expect(await wrong.text()).toMatch(/wrong token/);
      const wrongBearer = await get(p, { authorization: `Bearer ${UI_TOKEN.slice(1)}` });
      expect(wrongBearer.status, `${p} with a wrong Bearer token`).toBe(401);
      await wrongBearer.arrayBuffer();
    }
    const graph = await get(`/graph?token=${UI_TOKEN}`);
    expect(graph.status).toBe(200);
    expect(graph.headers.get('content-type')).toBe('application/json');
    expect(await graph.json()).toHaveProperty('edges');
    const page = await get('/ui', { authorization: `Bearer ${UI_TOKEN}` });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    // /metrics is not behind the token (Prometheus scrapes it), and says nothing about the graph's contents
    expect((await get('/metrics')).status).toBe(200);
  });
});

describe('a metrics listener on a non-loopback address', () => {
  // 192.0.2.1 (TEST-NET-1) is not an address of this machine: nothing is ever exposed by this test. The
  // refusal must come before the listener is opened; with a token the start gets past that check and fails
  // only at listen, which proves the first refusal was the missing token and nothing else.
  const tryStart = async (extra: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-e2e-expose-'));
    try {
      await startTollgate({
        configPath: writeConfig(
          dir,
          `trustDomain: expose.test\nlisten: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 192.0.2.1:0 }\naudit: { path: ${path.join(dir, 'audit.log')} }\n${extra}`,
        ),
        dataDir: path.join(dir, 'data'),
      }).then((tg) => tg.close());
      return undefined;
    } catch (err) {
      return err as Error;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  const writeConfig = (dir: string, text: string) => {
    const p = path.join(dir, 'tollgate.yaml');
    fs.writeFileSync(p, text);
    return p;
  };

  it('is refused at start without uiToken (UiError: needs a token)', async () => {
    const err = await tryStart('');
    expect(err).toBeInstanceOf(UiError);
    expect(err!.message).toMatch(/needs a token/);
  });

  it('with uiToken the token check passes (the start then fails only because 192.0.2.1 is not ours)', async () => {
    const err = await tryStart(`uiToken: ${UI_TOKEN}`);
    expect(err).toBeDefined();
    expect(err).not.toBeInstanceOf(UiError);
    expect(err!.message).toMatch(/cannot listen for metrics on 192\.0\.2\.1:0/);
  });
});

describe('concurrency slots (rateLimits.maxConcurrentPerCallee: 1) are given back on every failure', () => {
  /** the slot is free: a call that needs it succeeds */
  const slotFree = async (rpcId: number) => {
    const r = await call('alice', 'worker', rpc(rpcId));
    expect(r.status, JSON.stringify(r.json)).toBe(200);
  };

  it('the cap holds: a second call while one is in flight is refused with 429 (concurrency)', async () => {
    const seen = upstreams.worker.requests.length;
    const held = call('alice', 'worker', rpc(1), { path: 'hold' });
    await until('the held call to reach the worker', () => (upstreams.worker.requests.length > seen ? true : undefined));
    const second = await call('alice', 'worker', rpc(2));
    expect(second.status).toBe(429);
    expect(second.json!.error!.data).toMatchObject({ limit: 'concurrency' });
    holdRelease.shift()!();
    expect((await held).status).toBe(200);
    await slotFree(3);
  });

  it('after a 502 (the upstream resets the connection)', async () => {
    const r = await call('alice', 'worker', rpc(10), { path: 'reset' });
    expect(r.status).toBe(502);
    expect(r.json!.error!.data).toMatchObject({ reason: 'reset' });
    await slotFree(11);
  });

  it('after a 504 (the upstream does not answer within timeouts.upstream)', async () => {
    const r = await call('alice', 'worker', rpc(20), { path: 'slow' });
    expect(r.status).toBe(504);
    expect(r.json!.error!.data).toMatchObject({ reason: 'timeout' });
    await slotFree(21);
  });

  it('after a 413 (body over maxBodyBytes), sized up front and streamed', async () => {
    const r = await call('alice', 'worker', rpc(30, 'x'.repeat(MAX_BODY)));
    expect(r.status).toBe(413);
    expect(r.json!.error!.data).toMatchObject({ reason: 'too_large' });
    await slotFree(31);
    // chunked (no content-length): the limit trips while the body streams in
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        `${e.proxyUrl}/a2a/worker/`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          key: ids.alice.keyPem,
          cert: ids.alice.certChainPem,
          ca: ids.alice.bundlePem,
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.write(rpc(32, 'y'.repeat(MAX_BODY / 2)));
      req.end(' '.repeat(MAX_BODY));
    });
    expect(streamed).toBe(413);
    await slotFree(33);
  });

  it('after the caller goes away mid-call (the upstream call is aborted too)', async () => {
    const seen = upstreams.worker.requests.length;
    const abortedBefore = upstreams.worker.aborted.length;
    const ac = new AbortController();
    const gone = call('alice', 'worker', rpc(40), { path: 'hold', signal: ac.signal }).catch((err: unknown) => err);
    await until('the call to reach the worker', () => (upstreams.worker.requests.length > seen ? true : undefined));
    ac.abort();
    expect(await gone).toBeInstanceOf(Error);
    await until('the gateway to abort the upstream call', () => (upstreams.worker.aborted.length > abortedBefore ? true : undefined));
    holdRelease.splice(0);
    // the gateway frees the slot when it sees the caller leave; a leaked slot would answer 429 forever
    const statuses: number[] = [];
    await until('a call that needs the slot to succeed', async () => {
      const r = await call('alice', 'worker', rpc(41));
      statuses.push(r.status);
      return r.status === 200 ? true : undefined;
    });
    expect(statuses.filter((s) => s !== 429 && s !== 200)).toEqual([]);
  });

  it('after a delegation refusal (a forged context)', async () => {
    const r = await call('alice', 'worker', rpc(50), { delegation: `v2.nokey.${'a'.repeat(20)}~x~1~0~60000~/user/alice.${'A'.repeat(43)}` });
    expect(r.status).toBe(403);
    await slotFree(51);
  });
});

describe('delegation contexts an agent forged, tampered with or kept past expiry, through the whole gateway', () => {
  /** a fresh task: alice -> orchestrator; returns the context the gateway gave the orchestrator */
  async function contextForOrchestrator(rpcId: number): Promise<string> {
    const r = await call('alice', 'orchestrator', rpc(rpcId));
    expect(r.status).toBe(200);
    return lastContext('orchestrator');
  }
  const parts = (token: string) => {
    const first = token.indexOf('.');
    const second = token.indexOf('.', first + 1);
    const last = token.lastIndexOf('.');
    return { kid: token.slice(first + 1, second), payload: token.slice(second + 1, last), mac: token.slice(last + 1) };
  };
  /** orchestrator -> researcher with `ctx`: refused with `reason`, the researcher never sees it */
  async function refusedWith(ctx: string, rpcId: number, status: number, reason: string) {
    const before = upstreams.researcher.requests.length;
    const metric = `tollgate_delegation_refusals_total{caller="orchestrator",callee="researcher",reason="${reason}"}`;
    const counted = await series(metric);
    const r = await call('orchestrator', 'researcher', rpc(rpcId), { delegation: ctx });
    expect(r.status, JSON.stringify(r.json)).toBe(status);
    expect(r.json!.id).toBe(rpcId);
    expect(r.json!.error!.data).toMatchObject({ reason });
    expect(upstreams.researcher.requests.length).toBe(before);
    expect(await series(metric)).toBe(counted + 1);
  }

  it('the genuine context is accepted (the control for the refusals below)', async () => {
    const ctx = await contextForOrchestrator(100);
    const r = await call('orchestrator', 'researcher', rpc(101), { delegation: ctx });
    expect(r.status).toBe(200);
  });

  it('forged: a MAC made with a key the agent invented, under the gateway key id -> 403 context_bad_signature', async () => {
    const { kid, payload } = parts(await contextForOrchestrator(110));
    const signed = `v2.${kid}.${payload}`;
    const forged = `${signed}.${createHmac('sha256', randomBytes(32)).update(signed).digest('base64url')}`;
    await refusedWith(forged, 111, 403, 'context_bad_signature');
  });

  it('forged: under a key id the gateway never had -> 403 context_unknown_key', async () => {
    const { payload, mac } = parts(await contextForOrchestrator(120));
    await refusedWith(`v2.k${randomBytes(6).toString('hex')}.${payload}.${mac}`, 121, 403, 'context_unknown_key');
  });

  it('tampered: the expiry pushed out (MAC kept) -> 403 context_bad_signature', async () => {
    const { kid, payload, mac } = parts(await contextForOrchestrator(130));
    const f = payload.split('~');
    f[4] = String(Number(f[4]) + 3_600_000); // expires an hour later
    await refusedWith(`v2.${kid}.${f.join('~')}.${mac}`, 131, 403, 'context_bad_signature');
  });

  it('tampered: the chain rewritten to hide the initiator (MAC kept) -> 403 context_bad_signature', async () => {
    const { kid, payload, mac } = parts(await contextForOrchestrator(140));
    const f = payload.split('~');
    expect(f.slice(5)).toEqual(['spiffe://e2e.test/user/alice', '/agent/orchestrator']);
    await refusedWith(`v2.${kid}.${[...f.slice(0, 5), 'spiffe://e2e.test/agent/orchestrator'].join('~')}.${mac}`, 141, 403, 'context_bad_signature');
  });

  it('not a context at all -> 400 context_malformed', async () => {
    await refusedWith('not-a-token', 150, 400, 'context_malformed');
  });

  it('expired: a genuine context used after its tokenTtl (1m) -> 403 context_expired', async () => {
    const ctx = await contextForOrchestrator(160);
    // the same context is honoured inside its lifetime: what refuses it below is the time. (Checked first: once
    // the gateway's clock has passed every token of a task, its sweep may drop the task's state, and a control
    // call after the clock went back would then be refused as context_task_unknown, depending on when it ran.)
    expect((await call('orchestrator', 'researcher', rpc(162), { delegation: ctx })).status).toBe(200);
    try {
      clock += 2 * 60_000; // the gateway's clock, two minutes on (certificates live an hour)
      await refusedWith(ctx, 161, 403, 'context_expired');
    } finally {
      clock -= 2 * 60_000;
    }
  });
});

describe('the proxy listener', () => {
  it('closes a keep-alive connection left idle for timeouts.idle', async () => {
    const sock = tls.connect({
      host: '127.0.0.1',
      port: e.tg.ports.proxy,
      key: ids.alice.keyPem,
      cert: ids.alice.certChainPem,
      ca: ids.alice.bundlePem,
      servername: 'localhost',
    });
    let received = '';
    const closed = new Promise<number>((resolve) => sock.once('close', () => resolve(Date.now())));
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (received += d));
    sock.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      sock.once('secureConnect', resolve);
      sock.once('error', reject);
    });
    const body = rpc(200);
    sock.write(`POST /a2a/worker/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const answeredAt = await until('the answer', () => (/\r\n\r\n[\s\S]*"result"/.test(received) ? Date.now() : undefined));
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received.toLowerCase()).toContain('connection: keep-alive');
    const closedAt = await Promise.race([
      closed,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error('the idle connection was not closed within 10 s')), 10_000)),
    ]);
    // closed by the idle timer, not right after the answer
    expect(closedAt - answeredAt).toBeGreaterThanOrEqual(IDLE_MS / 2);
    expect(received.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });
});

describe('JSON-RPC batches', () => {
  it('a batch body is refused with 400 before any stage forwards it', async () => {
    const before = upstreams.worker.requests.length;
    const r = await call('alice', 'worker', `[${rpc(300)},${rpc(301)}]`);
    expect(r.status).toBe(400);
    expect(r.json!.error!.data).toMatchObject({ reason: 'batch' });
    expect(r.json!.error!.message).toMatch(/batch/i);
    expect(upstreams.worker.requests.length).toBe(before);
    // the same requests one at a time go through
    expect((await call('alice', 'worker', rpc(302))).status).toBe(200);
  });
});
