import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, ALICE, ECHO_ID, type Harness } from '../proxy/harness.js';
import { startStandInUpstream, type StandInUpstream } from '../fakes/upstream.js';
import { rawExchange, request, RPC } from './helpers.js';

/**
 * Red team: path traversal. alice may call "echo" (upstream base path /base) and nothing else; "other" is
 * registered on another upstream for another caller. Every variant is sent byte for byte on a raw socket
 * (fetch would normalise it first). Each must be refused (400/404) or stay inside echo's own route: the
 * echo upstream sees a path under /base with no dot segment, and "other" never sees anything.
 */
let h: Harness;
let other: StandInUpstream;
const OTHER_ID = 'spiffe://example.org/agent/other';
const J = { 'Content-Type': 'application/json' };

const variants: [name: string, target: string][] = [
  ['plain ..', '/a2a/echo/../other/'],
  ['.. at the end', '/a2a/echo/..'],
  ['. segment', '/a2a/echo/./'],
  ['.. after a segment', '/a2a/echo/x/../../other/'],
  ['%2e%2e', '/a2a/echo/%2e%2e/other/'],
  ['%2E%2E upper case', '/a2a/echo/%2E%2E/other/'],
  ['.%2e mixed', '/a2a/echo/.%2e/other/'],
  ['..%2f encoded slash', '/a2a/echo/..%2fother/'],
  ['%2e%2e%2f fully encoded', '/a2a/echo/%2e%2e%2fother%2f'],
  ['%2F upper-case encoded slash', '/a2a/echo/..%2Fother'],
  ['..%5c encoded backslash', '/a2a/echo/..%5cother'],
  ['raw backslash', '/a2a/echo/..\\other'],
  ['double encoding %252e%252e', '/a2a/echo/%252e%252e/other/'],
  ['double-encoded slash %252f', '/a2a/echo/..%252fother'],
  ['..; (Tomcat path parameter)', '/a2a/echo/..;/other/'],
  [';/.. ', '/a2a/echo/;/../other/'],
  ['overlong UTF-8 dot %c0%ae', '/a2a/echo/%c0%ae%c0%ae/other/'],
  ['overlong UTF-8 slash %c0%af', '/a2a/echo/..%c0%afother'],
  ['overlong 3-byte dot %e0%80%ae', '/a2a/echo/%e0%80%ae%e0%80%ae/other'],
  ['IIS %u002e', '/a2a/echo/%u002e%u002e/other'],
  ['empty segment //', '/a2a/echo//../other/'],
  ['leading //', '//a2a/other/'],
  ['/a2a//other', '/a2a//other/'],
  ['trailing dot segment /.', '/a2a/echo/x/.'],
  ['dot segment with query', '/a2a/echo/..?x=1'],
  ['encoded NUL', '/a2a/echo/..%00/other'],
  ['encoded percent %25', '/a2a/echo/%25'],
  ['fragment', '/a2a/echo/#/../other'],
  ['mixed-case prefix /A2A/other', '/A2A/other/'],
  ['mixed-case agent /a2a/OTHER', '/a2a/OTHER/'],
  ['agent name with a trailing dot', '/a2a/other./'],
  ['agent name with an encoded dot', '/a2a/echo%2e/'],
  ['agent name smuggled in an encoded slash', '/a2a/echo%2f..%2fother/'],
  ['absolute-form target', 'https://127.0.0.1/a2a/other/'],
  ['asterisk-form target', '*'],
  ['query holding a path', '/a2a/echo/?next=/../../other/'],
  ['tab in the path', '/a2a/echo/\t../other'],
  ['UTF-8 fullwidth dots (raw bytes)', '/a2a/echo/\uff0e\uff0e/other'],
];

beforeAll(async () => {
  h = await startHarness();
  const otherId = await h.td.issue(OTHER_ID, { dns: ['localhost'], ips: ['127.0.0.1'] });
  other = await startStandInUpstream({ keyPem: otherId.keyPem, certChainPem: otherId.certChainPem, bundlePem: h.td.bundlePem });
  h.gw.reloadConfig(
    h.config({
      agents: { echo: { url: `${h.upstream.url}/base`, id: ECHO_ID }, other: { url: other.url, id: OTHER_ID } },
      policy: [
        { from: ALICE, to: ['echo'] },
        { from: 'spiffe://example.org/agent/bob', to: ['other'] },
      ],
    }),
  );
});
afterAll(async () => {
  await h?.close();
  await other?.close();
});

describe('red team: path traversal', () => {
  it('the baseline call lands under /base', async () => {
    const r = await rawExchange(h.gw.port, h.alice, h.td.bundlePem, request('POST', '/a2a/echo/x', J, RPC(1)));
    expect(r.status).toBe(200);
    expect(h.upstream.requests.map((q) => q.url)).toEqual(['/base/x']);
    h.upstream.requests.length = 0;
  });

  it.each(variants)('%s: refused or confined to echo', async (_name, target) => {
    const r = await rawExchange(h.gw.port, h.alice, h.td.bundlePem, Buffer.from(request('POST', target, J, RPC(2)), 'utf8'));
    expect(r.status === undefined ? r.closed : true, 'answered or closed').toBe(true);
    expect(other.requests, 'the other agent was reached').toHaveLength(0);
    if (r.status !== undefined && r.status < 400) {
      expect(r.status).toBe(200);
      for (const q of h.upstream.requests) {
        const path = q.url.split('?')[0];
        expect(path === '/base' || path.startsWith('/base/'), q.url).toBe(true);
        expect(
          path.split('/').some((s) => s === '..' || s === '.'),
          q.url,
        ).toBe(false);
        expect(/%2e|%2f|%5c|\\/i.test(path), q.url).toBe(false);
      }
    } else {
      expect([400, 403, 404, 505, undefined]).toContain(r.status);
      expect(h.upstream.requests, `forwarded: ${h.upstream.requests.map((q) => q.url).join(',')}`).toHaveLength(0);
    }
    h.upstream.requests.length = 0;
  });
});

/**
 * A rule limited to message/send must not let other operations through on an A2A REST path: the HTTP method
 * and path name the operation the callee will run, whatever JSON-RPC body rides along.
 */
describe('red team: method confusion on REST paths', () => {
  let m: Harness;
  beforeAll(async () => {
    m = await startHarness({ extraConfig: { policy: [{ from: ALICE, to: ['echo'], methods: ['message/send'] }] } });
  });
  afterAll(async () => m?.close());

  it('the allowed method passes, on JSON-RPC and on its REST path', async () => {
    const a = await rawExchange(m.gw.port, m.alice, m.td.bundlePem, request('POST', '/a2a/echo/', J, RPC(1)));
    expect(a.status).toBe(200);
    const b = await rawExchange(
      m.gw.port,
      m.alice,
      m.td.bundlePem,
      request('POST', '/a2a/echo/v1/message:send', J, JSON.stringify({ message: { role: 'user', parts: [] } })),
    );
    expect(b.status).toBe(200);
    m.upstream.requests.length = 0;
  });

  it.each([
    ['tasks/cancel as JSON-RPC', 'POST', '/a2a/echo/', RPC(3, 'tasks/cancel')],
    ['GetTask on its REST path, no body', 'GET', '/a2a/echo/v1/tasks/t1', ''],
    ['ListTasks on its REST path', 'GET', '/a2a/echo/v1/tasks', ''],
    ['a DELETE of a push config carrying a message/send body', 'DELETE', '/a2a/echo/v1/tasks/t1/pushNotificationConfigs/c1', RPC(5)],
    ['a PUT carrying a message/send body', 'PUT', '/a2a/echo/v1/message:send', RPC(6)],
  ])('%s is refused (403) and not forwarded', async (_n, method, target, body) => {
    const r = await rawExchange(m.gw.port, m.alice, m.td.bundlePem, request(method, target, body ? J : {}, body));
    expect(r.status).toBe(403);
    expect(m.upstream.requests).toHaveLength(0);
  });

  for (const [name, method, target] of [
    ['a REST cancel path carrying a message/send JSON-RPC body', 'POST', '/a2a/echo/v1/tasks/t1:cancel'],
    ['a REST subscribe path carrying a message/send JSON-RPC body', 'POST', '/a2a/echo/v1/tasks/t1:subscribe'],
  ] as const) {
    it(`${name} is refused (400: the path names the method) and not forwarded`, async () => {
      m.upstream.requests.length = 0;
      const r = await rawExchange(m.gw.port, m.alice, m.td.bundlePem, request(method, target, J, RPC(4)));
      expect(r.status).toBe(400);
      expect(r.text).toContain('rpc_on_rest_path');
      expect(m.upstream.requests).toHaveLength(0);
    });
  }
});
