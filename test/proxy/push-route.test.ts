/**
 * The gateway's push callback route, /a2a-push/<receiver>/<rest>, against a stand-in receiver: the sender's
 * SVID names it, policy decides sender -> receiver for the PushNotification pseudo-method, the push reaches
 * only the receiver's push endpoint (config agents.<name>.push) and the push endpoint only through it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, post, get, rawRequest, ALICE, ECHO_ID, type Harness } from './harness.js';
import { createAuditLog } from '../../proxy/index.js';
import type { MtlsClient } from '../fakes/mtls-client.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const update = JSON.stringify({ statusUpdate: { taskId: 't1', contextId: 'c1', status: { state: 'TASK_STATE_WORKING' } } });

describe('the push callback route', () => {
  let h: Harness;
  let alice: MtlsClient;
  let auditPath: string;
  let log: ReturnType<typeof createAuditLog>;
  const audit = async () => {
    await log.flushed();
    return readFileSync(auditPath, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  beforeAll(async () => {
    auditPath = path.join(mkdtempSync(path.join(tmpdir(), 'push-audit-')), 'audit.log');
    log = createAuditLog({ path: auditPath, flushOnSigterm: false });
    h = await startHarness({ audit: log });
    alice = h.client(h.alice);
  });
  afterAll(async () => {
    await h.close();
    await log.close();
  });

  const configure = (methods?: string[]) =>
    h.gw.reloadConfig(
      h.config({
        agents: { echo: { url: h.upstream.url, id: ECHO_ID, push: '/hooks/push' }, plain: { url: h.upstream.url, id: 'spiffe://example.org/agent/plain' } },
        policy: [{ from: ALICE, to: ['echo', 'plain'], ...(methods ? { methods } : {}) }],
      }),
    );

  it('forwards a push to the receiver push endpoint, naming the sender; policy allows PushNotification', async () => {
    configure(['SendMessage', 'PushNotification']);
    const r = await post(alice, `${h.base}/a2a-push/echo/task-1?n=2`, update, {
      'tollgate-push': 'forged',
      'x-forwarded-client-cert': 'URI=spiffe://example.org/agent/x',
    });
    expect(r.status, r.text).toBe(200);
    const got = h.upstream.requests.at(-1)!;
    expect(got.url).toBe('/hooks/push/task-1?n=2');
    expect(got.body).toBe(update);
    expect(got.headers['tollgate-push']).toBe('1');
    expect(got.headers['x-forwarded-client-cert']).toBe(`By=${h.creds.spiffeId};URI=${ALICE}`);
  });

  it('refuses a push edge that has no rule for PushNotification (403), the receiver never sees it', async () => {
    configure(['SendMessage']);
    const before = h.upstream.requests.length;
    const r = await post(alice, `${h.base}/a2a-push/echo/`, update);
    expect(r.status).toBe(403);
    expect(r.json.error.data).toMatchObject({ reason: 'method_not_allowed', method: 'PushNotification' });
    expect(h.upstream.requests.length).toBe(before);
    const lines = (await audit()).filter((l) => l.method === 'PushNotification');
    expect(lines.at(-1)).toMatchObject({ caller: ALICE, callee: 'echo', decision: 'deny', reason: 'method_not_allowed', status: 403 });
    expect(lines.some((l) => l.decision === 'allow' && l.status === 200)).toBe(true); // the push of the test before
  });

  it('a rule listing only PushNotification does not allow A2A calls, nor a JSON-RPC method named PushNotification', async () => {
    configure(['PushNotification']);
    const send = await post(alice, `${h.base}/a2a/echo/`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'message/send', params: {} }));
    expect(send.status).toBe(403);
    const pseudo = await post(alice, `${h.base}/a2a/echo/`, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'PushNotification', params: {} }));
    expect(pseudo.status).toBe(403);
    expect(pseudo.json.error.data.method).toBe('unknown');
  });

  it('keeps the push route and the A2A routes apart', async () => {
    configure();
    const before = h.upstream.requests.length;
    // a JSON-RPC call, or a REST method path, through the push route
    const rpc = await post(alice, `${h.base}/a2a-push/echo/`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'message/send', params: {} }));
    expect([rpc.status, rpc.json.error.data.reason]).toEqual([400, 'push_not_a2a_call']);
    const rest = await post(alice, `${h.base}/a2a-push/echo/message:send`, '{}');
    expect([rest.status, rest.json.error.data.reason]).toEqual([400, 'push_not_a2a_call']);
    // the push endpoint through an A2A route, in any case or escaping
    for (const p of ['/a2a/echo/hooks/push', '/a2a/echo/hooks/push/x', '/a2a/echo/HOOKS/Push', '/a2a/echo/hooks/%70ush']) {
      const r = await post(alice, `${h.base}${p}`, update);
      expect([p, r.status, r.json.error.data.reason]).toEqual([p, 403, 'push_endpoint_reserved']);
    }
    expect(h.upstream.requests.length).toBe(before);
    // a GET, an agent without a push endpoint, an unknown agent, a bad path
    expect((await get(alice, `${h.base}/a2a-push/echo/`)).status).toBe(405);
    const none = await post(alice, `${h.base}/a2a-push/plain/`, update);
    expect([none.status, none.json.error.data.reason]).toEqual([404, 'push_not_configured']);
    expect((await post(alice, `${h.base}/a2a-push/nobody/`, update)).status).toBe(404);
    expect((await rawRequest(h.alice, h.td.bundlePem, `${h.base}/a2a-push/echo%2Fplain/`, { method: 'POST', body: update })).status).toBe(400);
    expect(h.upstream.requests.length).toBe(before);
  });

  it('strips a caller-sent tollgate-push header from ordinary calls', async () => {
    configure();
    const r = await post(alice, `${h.base}/a2a/echo/`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'message/send', params: {} }), { 'tollgate-push': '1' });
    expect(r.status).toBe(200);
    expect(h.upstream.requests.at(-1)!.headers['tollgate-push']).toBeUndefined();
  });
});
