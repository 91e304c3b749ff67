/**
 * Push-config URLs in calls through the gateway (issue #14): a caller may only ask a callee to push to the
 * gateway's own callback route naming the caller itself (`https://<gateway>/a2a-push/<caller>/...`). Any
 * other URL (loopback, another host, another agent's callback) is refused before the callee sees the call:
 * otherwise the callee's push sender would POST wherever the caller said (SSRF, no identity, no policy).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, post, ALICE, ECHO_ID, type Harness } from './harness.js';
import type { MtlsClient } from '../fakes/mtls-client.js';

const BOB = 'spiffe://example.org/agent/bob';

const message = { kind: 'message', role: 'user', messageId: 'm-1', parts: [{ kind: 'text', text: 'hi' }] };
const rpc = (method: string, params: unknown) => JSON.stringify({ jsonrpc: '2.0', id: 7, method, params });

describe('push-config URLs through the gateway', () => {
  let h: Harness;
  let alice: MtlsClient;
  let gateway: string;
  beforeAll(async () => {
    h = await startHarness();
    h.gw.reloadConfig(
      h.config({
        agents: {
          echo: { url: h.upstream.url, id: ECHO_ID },
          // alice and bob are registered agents that receive pushes (never forwarded to in this file)
          alice: { url: h.upstream.url, id: ALICE, push: '/push' },
          bob: { url: h.upstream.url, id: BOB, push: '/push' },
        },
        policy: [{ from: ALICE, to: ['echo'] }],
        // set/create name tasks this file never created: what is under test is the URL, not the owner
        taskOwners: { unknownTasks: 'forward' },
      }),
    );
    alice = h.client(h.alice);
    gateway = `https://127.0.0.1:${h.gw.port}`;
  });
  afterAll(() => h.close());

  async function refused(body: string, path = '/a2a/echo/', status = 400, reason = 'push_url_not_gateway') {
    const before = h.upstream.requests.length;
    const r = await post(alice, `${h.base}${path}`, body);
    expect(r.status, r.text).toBe(status);
    expect(r.json.error.data.reason).toBe(reason);
    expect(h.upstream.requests.length).toBe(before); // the callee never saw it
    return r;
  }

  it('refuses the SSRF attempt: an inline v0.3 push config pointing at 127.0.0.1', async () => {
    const r = await refused(rpc('message/send', { message, configuration: { pushNotificationConfig: { url: 'https://127.0.0.1:6379/hook' } } }));
    expect(r.json.id).toBe(7);
    expect(r.json.error.message).toContain('https://127.0.0.1:6379/hook');
    expect(r.json.error.message).toContain(`${gateway}/a2a-push/alice/`); // what to use instead
  });

  it('refuses another host in every spelling: v1.0, snake_case, escaped keys, streaming, REST, set/create', async () => {
    const evil = 'https://attacker.example/hook';
    await refused(rpc('SendMessage', { message, configuration: { taskPushNotificationConfig: { url: evil } } }));
    await refused(rpc('SendMessage', { message, configuration: { task_push_notification_config: { url: evil } } }));
    await refused(rpc('message/stream', { message, configuration: { pushNotificationConfig: { url: evil } } }));
    // a key spelled with a JSON escape is the same key to JSON.parse
    await refused(
      JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'message/send', params: { message, configuration: { P: { url: evil } } } }).replace(
        '"P"',
        '"\\u0070ushNotificationConfig"',
      ),
    );
    await refused(rpc('tasks/pushNotificationConfig/set', { taskId: 't1', pushNotificationConfig: { url: evil } }));
    await refused(rpc('CreateTaskPushNotificationConfig', { taskId: 't1', url: evil }));
    await refused(JSON.stringify({ message, configuration: { taskPushNotificationConfig: { url: evil } } }), '/a2a/echo/message:send');
    await refused(JSON.stringify({ taskId: 't1', url: evil }), '/a2a/echo/tasks/t1/pushNotificationConfigs');
    // a url that is not a string (the SDK would coerce it with String())
    await refused(rpc('CreateTaskPushNotificationConfig', { taskId: 't1', url: [evil] }));
  });

  it('refuses gateway-looking URLs that are not the callback route or not canonical', async () => {
    const send = (url: string) => rpc('message/send', { message, configuration: { pushNotificationConfig: { url } } });
    await refused(send(`${gateway}/a2a/echo/`)); // an A2A route, not the callback route
    await refused(send(`https://127.0.0.1:1/a2a-push/alice/`)); // the gateway's name, another port
    await refused(send(`http://127.0.0.1:${h.gw.port}/a2a-push/alice/`)); // not https
    await refused(send(`https://x@127.0.0.1:${h.gw.port}/a2a-push/alice/`)); // userinfo
    await refused(send(`${gateway}/a2a-push/bob/../alice/`)); // dot segments
    await refused(send(`${gateway}/a2a-push/alice/%2e%2e/x`)); // encoded dots
  });

  it('refuses a callback URL naming another agent as receiver (403)', async () => {
    const r = await refused(
      rpc('message/send', { message, configuration: { pushNotificationConfig: { url: `${gateway}/a2a-push/bob/` } } }),
      '/a2a/echo/',
      403,
      'push_receiver_not_caller',
    );
    expect(r.json.error.message).toContain('bob');
  });

  it('forwards a push config naming the caller on the gateway callback route, body untouched', async () => {
    const body = rpc('message/send', { message, configuration: { pushNotificationConfig: { url: `${gateway}/a2a-push/alice/task-1?x=1`, token: 't' } } });
    const r = await post(alice, `${h.base}/a2a/echo/`, body);
    expect(r.status, r.text).toBe(200);
    expect(h.upstream.requests.at(-1)!.body).toBe(body);
  });

  it('a plain message/send without push config is forwarded as before', async () => {
    const r = await post(alice, `${h.base}/a2a/echo/`, rpc('message/send', { message }));
    expect(r.status).toBe(200);
  });
});

describe('bodies the gateway cannot read as the callee would', () => {
  let h: Harness;
  let alice: MtlsClient;
  beforeAll(async () => {
    h = await startHarness();
    alice = h.client(h.alice);
  });
  afterAll(() => h.close());

  it('refuses Content-Encoding, non-UTF-8 charsets and a byte order mark (415): their push config could not be checked', async () => {
    const { gzipSync } = await import('node:zlib');
    const body = rpc('message/send', { message, configuration: { pushNotificationConfig: { url: 'https://127.0.0.1:6379/' } } });
    const gz = await alice.fetch(`${h.base}/a2a/echo/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(body),
    });
    expect(gz.status).toBe(415);
    expect((await gz.json()).error.data.reason).toBe('body_not_inspectable');
    const utf16 = await post(alice, `${h.base}/a2a/echo/`, body, { 'content-type': 'application/json; charset=utf-16le' });
    expect(utf16.status).toBe(415);
    const bom = await alice.fetch(`${h.base}/a2a/echo/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]),
    });
    expect(bom.status).toBe(415);
    expect(h.upstream.requests.length).toBe(0);
    const utf8 = await post(alice, `${h.base}/a2a/echo/`, rpc('message/send', { message }), { 'content-type': 'application/json; charset="UTF-8"' });
    expect(utf8.status).toBe(200);
  });
});
