import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startHarness, post, get, type Harness } from './harness.js';
import { startA2aAgent, type RunningAgent } from '../fakes/a2a-agent.js';
import { makeTrustDomain } from '../fakes/trust-domain.js';
import { decideMethod } from '../../proxy/a2a/methods.js';

/**
 * Method confusion on A2A's HTTP+JSON binding: the method the policy sees must be the method the SDK's
 * handler runs. On a REST path the path names the method, and a JSON-RPC envelope there is refused.
 * The agent is a real @a2a-js/sdk express app (JSON-RPC at /a2a/jsonrpc, REST at /a2a/rest, both with
 * v0.3 compatibility on) whose request handler records every method it dispatches.
 */

const TASK = 't-1';
// REST routes of the SDK (v1.0 and the v0.3 /v1 prefix), relative to the REST mount point
const REST_ROUTES: [http: string, path: string][] = [
  ['POST', '/message:send'],
  ['POST', '/message:stream'],
  ['GET', `/tasks/${TASK}`],
  ['GET', '/tasks'],
  ['POST', `/tasks/${TASK}:cancel`],
  ['GET', `/tasks/${TASK}:subscribe`],
  ['POST', `/tasks/${TASK}:subscribe`],
  ['POST', `/tasks/${TASK}/pushNotificationConfigs`],
  ['GET', `/tasks/${TASK}/pushNotificationConfigs`],
  ['GET', `/tasks/${TASK}/pushNotificationConfigs/c-1`],
  ['DELETE', `/tasks/${TASK}/pushNotificationConfigs/c-1`],
  ['GET', '/extendedAgentCard'],
  ['GET', '/card'],
  ['GET', `/tasks/a:b`],
];

/** Spellings a router may treat as the same route: case, a trailing slash, a tenant or the v0.3 prefix, an encoded ':'. */
function variants(path: string): string[] {
  const out = new Set<string>();
  for (const prefix of ['', '/acme', '/v1']) {
    const p = prefix + path;
    out.add(p);
    out.add(p + '/');
    out.add(p.toUpperCase().replace('/TASKS/T-1', '/tasks/t-1'));
    out.add(p.replace(/\/(message|tasks)/, (m) => m.replace(/[a-z]/, (c) => c.toUpperCase())));
    out.add(p.replace(/:(send|stream|cancel|subscribe)/, '%3A$1'));
    out.add(p.replace(/:(send|stream|cancel|subscribe)/, '%3a$1'));
  }
  return [...out];
}

const rpc = (method: string, params: unknown = { id: TASK, name: `tasks/${TASK}` }) => JSON.stringify({ jsonrpc: '2.0', id: 7, method, params });
const BODIES = [
  rpc('GetTask'),
  rpc('tasks/get'),
  rpc('SendMessage', { message: { messageId: 'm-1', role: 'ROLE_USER', parts: [{ text: 'hi' }] } }),
  rpc('CancelTask'),
  // a REST body (SendMessageRequest), not a JSON-RPC envelope
  JSON.stringify({ message: { messageId: 'm-2', role: 'ROLE_USER', parts: [{ text: 'hi' }] } }),
];

describe('the method the policy sees is the method the SDK runs (differential, every binding)', () => {
  let agent: RunningAgent;
  let client: Agent;
  const ran: string[] = [];
  beforeAll(async () => {
    const td = await makeTrustDomain('example.org');
    const id = await td.issue('spiffe://example.org/agent/multi', { ips: ['127.0.0.1'] });
    agent = await startA2aAgent({
      name: 'multi',
      keyPem: id.keyPem,
      certChainPem: id.certChainPem,
      bundlePem: td.bundlePem,
      requireClientCert: false,
      onMethod: (m) => ran.push(m),
    });
    client = new Agent({ connect: { ca: td.bundlePem }, connections: 8 });
  });
  afterAll(async () => {
    await client?.close();
    await agent?.close();
  });

  it('for every route, spelling, HTTP method, body and protocol version', async () => {
    const paths = new Set<string>(['/a2a/jsonrpc', '/a2a/jsonrpc/']);
    for (const [, p] of REST_ROUTES) for (const v of variants(p)) paths.add('/a2a/rest' + v);
    const cases: { http: string; path: string; body?: string; version?: string }[] = [];
    for (const path of paths) {
      for (const version of [undefined, '1.0', '0.3']) {
        for (const http of ['GET', 'HEAD', 'DELETE']) cases.push({ http, path, version });
        for (const body of BODIES) cases.push({ http: 'POST', path, body, version });
      }
    }
    const mismatches: string[] = [];
    let ranSomething = 0;
    let refusedRpcOnRest = 0;
    // sequential: `ran` belongs to the one request in flight
    for (const c of cases) {
      ran.length = 0;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (c.version) headers['a2a-version'] = c.version;
      const r = await request(`${agent.url}${c.path}`, { method: c.http as 'GET', headers, body: c.body, dispatcher: client });
      await r.body.text().catch(() => '');
      const d = decideMethod(c.http, c.path, c.body === undefined ? undefined : Buffer.from(c.body));
      const executed = [...new Set(ran)];
      if (executed.length > 0) ranSomething++;
      if (d.kind === 'refuse') {
        refusedRpcOnRest++;
        continue; // the gateway never forwards it
      }
      if (executed.length > 1 || (executed.length === 1 && executed[0] !== d.method)) {
        mismatches.push(`${c.http} ${c.path} v=${c.version ?? '-'} body=${c.body?.slice(0, 60)}: policy sees ${d.method}, SDK ran ${executed.join(',')}`);
      }
    }
    expect(mismatches).toEqual([]);
    // the table exercised the SDK for real, and the refusal path too
    expect(ranSomething).toBeGreaterThan(200);
    expect(refusedRpcOnRest).toBeGreaterThan(100);
  }, 120_000);
});

describe('method confusion through the gateway', () => {
  let h: Harness;
  let agent: RunningAgent;
  const ran: string[] = [];
  const MULTI = 'spiffe://example.org/agent/multi';
  beforeAll(async () => {
    h = await startHarness();
    const id = await h.td.issue(MULTI, { ips: ['127.0.0.1'] });
    agent = await startA2aAgent({ name: 'multi', keyPem: id.keyPem, certChainPem: id.certChainPem, bundlePem: h.td.bundlePem, onMethod: (m) => ran.push(m) });
  });
  afterAll(async () => {
    await h?.close();
    await agent?.close();
  });

  const only = (method: string) =>
    h.gw.reloadConfig(
      h.config({
        agents: { echo: { url: h.upstream.url, id: 'spiffe://example.org/agent/echo' }, multi: { url: agent.url, id: MULTI } },
        policy: [{ from: 'spiffe://example.org/agent/alice', to: ['multi'], methods: [method] }],
        // task "t-1" was never created through the gateway: let the SDK answer for it (this is about methods)
        taskOwners: { unknownTasks: 'forward' },
      }),
    );

  it("a rule allowing only GetTask: a GetTask envelope on another method's REST path is refused and never runs", async () => {
    only('GetTask');
    const c = h.client(h.alice);
    const base = `${h.base}/a2a/multi/a2a/rest`;
    for (const path of [
      '/message:send',
      '/v1/message:send',
      `/tasks/${TASK}:cancel`,
      `/v1/tasks/${TASK}:cancel`,
      '/acme/message:send',
      '/MESSAGE:SEND',
      `/tasks/${TASK}/pushNotificationConfigs`,
    ]) {
      ran.length = 0;
      const r = await post(c, base + path, rpc('GetTask'));
      expect(r.status, path).toBe(400);
      expect(r.json?.error?.data?.reason, path).toBe('rpc_on_rest_path');
      expect(r.json?.error?.message, path).toMatch(/JSON-RPC/);
      expect(ran, path).toEqual([]);
    }
    // a REST body on a REST path is the path's method: not GetTask, so refused by policy
    ran.length = 0;
    const cancel = await post(c, `${base}/tasks/${TASK}:cancel`, '{}');
    expect(cancel.status).toBe(403);
    expect(cancel.json?.error?.data?.reason).toBe('method_not_allowed');
    expect(ran).toEqual([]);
    // the allowed method still works on both bindings
    ran.length = 0;
    const viaRest = await get(c, `${base}/tasks/${TASK}`, { 'a2a-version': '1.0' });
    expect(viaRest.status).toBe(404); // task not found, answered by the SDK
    expect(ran).toEqual(['GetTask']);
    ran.length = 0;
    const viaRpc = await post(c, `${h.base}/a2a/multi/a2a/jsonrpc`, rpc('GetTask'), { 'a2a-version': '1.0' });
    expect(viaRpc.status).toBe(200);
    expect(ran).toEqual(['GetTask']);
  });

  it('a rule allowing only SendMessage: a SendMessage envelope cannot cancel or read a task over REST', async () => {
    only('SendMessage');
    const c = h.client(h.alice);
    const base = `${h.base}/a2a/multi/a2a/rest`;
    const send = rpc('SendMessage', { message: { messageId: 'm-9', role: 'ROLE_USER', parts: [{ text: 'hi' }] } });
    for (const path of [`/tasks/${TASK}:cancel`, `/tasks/${TASK}:subscribe`, `/v1/tasks/${TASK}:cancel`, `/TASKS/${TASK}:Cancel`]) {
      ran.length = 0;
      const r = await post(c, base + path, send);
      expect(r.status, path).toBe(400);
      expect(ran, path).toEqual([]);
    }
    // an encoded ':' is no REST route to the SDK either: forwarded as JSON-RPC, and nothing runs there
    ran.length = 0;
    const encoded = await post(c, `${base}/tasks/${TASK}%3Acancel`, send);
    expect(encoded.status).toBe(404);
    expect(ran).toEqual([]);
  });
});
