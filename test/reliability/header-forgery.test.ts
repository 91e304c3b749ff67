import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, ALICE, type Harness } from '../proxy/harness.js';
import { rawExchange, request, RPC } from './helpers.js';

/**
 * Red team: identity header forgery. Whatever alice sends, the callee must see exactly one
 * x-forwarded-client-cert, the gateway's (By=<gateway>;URI=<alice>), no x-tollgate-* and no
 * tollgate-delegation of hers, and its own Host.
 */
let h: Harness;
let xfcc: string;
const J = { 'Content-Type': 'application/json' };
const FORGED = 'By=spiffe://example.org/tollgate/gateway;URI=spiffe://example.org/agent/admin';

function values(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) out.push(raw[i + 1]);
  return out;
}

beforeAll(async () => {
  h = await startHarness();
  xfcc = `By=${h.creds.spiffeId};URI=${ALICE}`;
});
afterAll(async () => h?.close());

const cases: [name: string, headers: [string, string][]][] = [
  ['forged XFCC', [['X-Forwarded-Client-Cert', FORGED]]],
  ['forged XFCC in upper case', [['X-FORWARDED-CLIENT-CERT', FORGED]]],
  [
    'two forged XFCC headers',
    [
      ['x-forwarded-client-cert', FORGED],
      ['x-forwarded-client-cert', 'URI=spiffe://example.org/agent/root'],
    ],
  ],
  [
    "XFCC named in Connection (to strip the gateway's own)",
    [
      ['Connection', 'close, x-forwarded-client-cert'],
      ['X-Forwarded-Client-Cert', FORGED],
    ],
  ],
  ['x-tollgate-caller', [['x-tollgate-caller', 'spiffe://example.org/agent/admin']]],
  [
    'X-Tollgate-* in mixed case',
    [
      ['X-ToLLgate-Caller-Id', 'spiffe://example.org/agent/admin'],
      ['X-TOLLGATE-DECISION', 'allow'],
    ],
  ],
  ['tollgate-delegation from the caller', [['tollgate-delegation', 'v2.k1.forged.AAAA']]],
  [
    'tollgate-delegation named in Connection',
    [
      ['Connection', 'close, tollgate-delegation'],
      ['Tollgate-Delegation', 'v2.k1.forged.AAAA'],
    ],
  ],
  ['Host of another service', [['X-Ignored', '1']]],
];

describe('red team: header forgery', () => {
  it.each(cases)("%s: the callee sees only the gateway's identity headers", async (name, headers) => {
    h.upstream.requests.length = 0;
    let text = request('POST', '/a2a/echo/', [['Content-Type', 'application/json'], ...headers], RPC(1));
    if (name.startsWith('Host')) text = text.replace('Host: localhost', 'Host: admin.internal:443');
    const r = await rawExchange(h.gw.port, h.alice, h.td.bundlePem, text);
    expect(r.status, r.text).toBe(200);
    expect(h.upstream.requests).toHaveLength(1);
    const raw = h.upstream.requests[0].rawHeaders;
    expect(values(raw, 'x-forwarded-client-cert')).toEqual([xfcc]);
    expect(raw.filter((_, i) => i % 2 === 0 && raw[i].toLowerCase().startsWith('x-tollgate-'))).toEqual([]);
    expect(values(raw, 'tollgate-delegation')).toEqual([]);
    expect(values(raw, 'host')).toEqual([`127.0.0.1:${h.upstream.port}`]);
  });

  it('two Host headers: refused, or the callee sees its own host only', async () => {
    h.upstream.requests.length = 0;
    const text = request('POST', '/a2a/echo/', J, RPC(2)).replace('Host: localhost', 'Host: localhost\r\nHost: admin.internal');
    const r = await rawExchange(h.gw.port, h.alice, h.td.bundlePem, text);
    if (r.status === 200) expect(values(h.upstream.requests[0].rawHeaders, 'host')).toEqual([`127.0.0.1:${h.upstream.port}`]);
    else expect(h.upstream.requests).toHaveLength(0);
  });

  it('XFCC in a chunked trailer does not reach the callee', async () => {
    h.upstream.requests.length = 0;
    const b = RPC(3);
    const text =
      [
        'POST /a2a/echo/ HTTP/1.1',
        'Host: localhost',
        'Content-Type: application/json',
        'Transfer-Encoding: chunked',
        'Trailer: X-Forwarded-Client-Cert',
        'Connection: close',
      ].join('\r\n') + `\r\n\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\nX-Forwarded-Client-Cert: ${FORGED}\r\n\r\n`;
    const r = await rawExchange(h.gw.port, h.alice, h.td.bundlePem, text);
    expect(r.status).toBe(200);
    expect(values(h.upstream.requests[0].rawHeaders, 'x-forwarded-client-cert')).toEqual([xfcc]);
    expect(h.upstream.requests[0].body).toBe(b);
  });

  it('a header named exactly "x-tollgate-" is stripped like the rest of the namespace', async () => {
    h.upstream.requests.length = 0;
    const r = await rawExchange(
      h.gw.port,
      h.alice,
      h.td.bundlePem,
      request(
        'POST',
        '/a2a/echo/',
        [
          ['Content-Type', 'application/json'],
          ['x-tollgate-', 'forged'],
        ],
        RPC(4),
      ),
    );
    expect(r.status).toBe(200);
    expect(values(h.upstream.requests[0].rawHeaders, 'x-tollgate-')).toEqual([]);
  });

  it("1,100 padding headers cannot push the gateway's XFCC out of what the callee reads", async () => {
    h.upstream.requests.length = 0;
    const pad: [string, string][] = Array.from({ length: 1100 }, (_, i) => [`x-p${i}`, '1']);
    const r = await rawExchange(h.gw.port, h.alice, h.td.bundlePem, request('POST', '/a2a/echo/', [['Content-Type', 'application/json'], ...pad], RPC(5)));
    if (r.status === 200) expect(h.upstream.requests[0].headers['x-forwarded-client-cert']).toBe(xfcc);
    else {
      expect([400, 431]).toContain(r.status);
      expect(h.upstream.requests).toHaveLength(0);
    }
  });
});
