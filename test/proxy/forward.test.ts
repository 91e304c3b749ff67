import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import { startHarness, post, rawRequest, SEND, ALICE, type Harness } from './harness.js';

describe('gateway forwarding', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('forwards an allowed call and states the caller in XFCC, replacing a spoofed one', async () => {
    const c = h.client(h.alice);
    const r = await post(c, `${h.base}/a2a/echo/rpc?x=1`, SEND(7), {
      'x-forwarded-client-cert': 'By=spiffe://example.org/x;URI=spiffe://example.org/agent/admin',
      'x-tollgate-caller': 'spiffe://example.org/agent/admin',
      'tollgate-delegation': 'forged',
    });
    expect(r.status).toBe(200);
    expect(r.json.id).toBe(7);
    const seen = h.upstream.requests.at(-1)!;
    expect(seen.url).toBe('/rpc?x=1');
    expect(seen.headers['x-forwarded-client-cert']).toBe(`By=spiffe://example.org/tollgate/gateway;URI=${ALICE}`);
    // exactly one XFCC header reached the callee
    expect(seen.rawHeaders.filter((n, i) => i % 2 === 0 && n.toLowerCase() === 'x-forwarded-client-cert')).toHaveLength(1);
    expect(seen.headers['x-tollgate-caller']).toBeUndefined();
    expect(seen.headers['tollgate-delegation']).toBeUndefined();
    expect(seen.peerSan).toContain('spiffe://example.org/tollgate/gateway');
  });

  it('strips a header named exactly "x-tollgate-" (the bare prefix) before the callee', async () => {
    const r = await rawRequest(h.alice, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tollgate-': 'spoofed', 'X-Tollgate-Caller': 'spoofed' },
      body: SEND(4),
    });
    expect(r.status).toBe(200);
    const seen = h.upstream.requests.at(-1)!;
    expect(seen.rawHeaders.filter((n, i) => i % 2 === 0 && n.toLowerCase().startsWith('x-tollgate-'))).toEqual([]);
  });

  it('drops hop-by-hop headers, including those the Connection header names', async () => {
    const r = await rawRequest(h.alice, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'keep-alive, x-hop', 'x-hop': 'drop me', 'keep-alive': 'timeout=5', 'x-keep': 'yes' },
      body: SEND(3),
    });
    expect(r.status).toBe(200);
    const seen = h.upstream.requests.at(-1)!;
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers['keep-alive']).toBeUndefined();
    expect(seen.headers['x-keep']).toBe('yes');
  });

  it('denies a caller without a rule with 403 and a JSON-RPC error, and the callee never sees it', async () => {
    const before = h.upstream.requests.length;
    const c = h.client(h.mallory);
    const r = await post(c, `${h.base}/a2a/echo/rpc`, SEND(42));
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ jsonrpc: '2.0', id: 42, error: { code: -31403, data: { reason: 'no_rule' } } });
    expect(r.json.error.message).toMatch(/not allowed to call agent "echo"/);
    expect(h.upstream.requests.length).toBe(before);
  });

  it('answers 404 for an unknown agent', async () => {
    const r = await post(h.client(h.alice), `${h.base}/a2a/nobody/rpc`, SEND(1));
    expect(r.status).toBe(404);
    expect(r.json.error.data.reason).toBe('unknown_agent');
  });

  it('refuses path traversal through the real listener (raw request lines, no client-side normalization)', async () => {
    const targets = [
      '/a2a/echo/../other/x',
      '/a2a/echo/%2e%2e/x',
      '/a2a/echo/a%2fb',
      '/a2a/echo/a%5cb',
      '/a2a/echo\\..\\x',
      '/a2a/echo//x',
      '/a2a/echo/%252e%252e/x',
      '/a2a/echo/./x',
    ];
    const before = h.upstream.requests.length;
    for (const t of targets) {
      const status = await new Promise<number>((resolve, reject) => {
        const s = tls.connect(
          { host: '127.0.0.1', port: h.gw.port, ca: h.td.bundlePem, key: h.alice.keyPem, cert: h.alice.certChainPem, servername: 'localhost' },
          () => {
            s.write(`GET ${t} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
          },
        );
        let buf = '';
        s.on('data', (d: Buffer | string) => (buf += d.toString()));
        s.on('end', () => resolve(Number(buf.split(' ')[1])));
        s.on('error', reject);
      });
      expect(status, t).toBe(400);
    }
    expect(h.upstream.requests.length).toBe(before);
  });
});
