import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import https from 'node:https';
import { startHarness, post, rawRequest, SEND, type Harness } from './harness.js';
import { handlers } from '../fakes/upstream.js';

describe('gateway edge cases (stand-in upstream)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ extraConfig: { maxBodyBytes: 4096, timeouts: { upstream: '400ms' } } });
  });
  afterAll(async () => h?.close());

  it('refuses a body over maxBodyBytes with 413 and never forwards it', async () => {
    const before = h.upstream.requests.length;
    const r = await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND(1, 'x'.repeat(5000)));
    expect(r.status).toBe(413);
    expect(r.json.error.data.reason).toBe('too_large');
    expect(h.upstream.requests.length).toBe(before);
  });

  /** POST a body in separate chunked pieces (no content-length), each written after a pause. */
  function chunkedPost(pieces: (string | Buffer)[]): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${h.base}/a2a/echo/rpc`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, key: h.alice.keyPem, cert: h.alice.certChainPem, ca: h.td.bundlePem, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', (e) => (pieces.length > 0 ? resolve({ status: -1, text: String(e) }) : reject(e)));
      const next = () => {
        const p = pieces.shift();
        if (p === undefined) return void req.end();
        req.write(p);
        setTimeout(next, 20);
      };
      next();
    });
  }

  it('reads a body that arrives in pieces (chunked) and forwards it byte for byte', async () => {
    const body = SEND(11, 'é'.repeat(300)); // multi-byte characters split across pieces
    const bytes = Buffer.from(body);
    const cuts = [0, 101, 457, 600, bytes.length];
    const pieces = cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
    const before = h.upstream.requests.length;
    const r = await chunkedPost(pieces);
    expect(r.status).toBe(200);
    expect(h.upstream.requests.length).toBe(before + 1);
    expect(h.upstream.requests.at(-1)!.body).toBe(body);
  });

  it('refuses a chunked body with 413 as soon as it passes maxBodyBytes, without forwarding it', async () => {
    const before = h.upstream.requests.length;
    const r = await chunkedPost(['{"jsonrpc":"2.0","id":12,"method":"message/send","params":{"text":"', 'x'.repeat(3000), 'y'.repeat(3000), '"}}']);
    if (r.status !== -1) expect(r.status).toBe(413); // or the gateway closed the connection mid-upload
    expect(h.upstream.requests.length).toBe(before);
  });

  it('answers 504 when the upstream is too slow', async () => {
    h.upstream.setHandler(handlers.slow(2000));
    const t0 = Date.now();
    const r = await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND(5));
    expect(r.status).toBe(504);
    expect(r.json).toMatchObject({ id: 5, error: { data: { reason: 'timeout' } } });
    expect(Date.now() - t0).toBeLessThan(1900);
    h.upstream.setHandler(handlers.jsonRpcOk());
  });

  it('answers 502 when the upstream resets the connection', async () => {
    h.upstream.setHandler(handlers.reset());
    const r = await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND(6));
    expect(r.status).toBe(502);
    expect(r.json.error.data.reason).toBe('reset');
    h.upstream.setHandler(handlers.jsonRpcOk());
  });

  it('streams SSE: the first event reaches the caller before the stream ends', async () => {
    h.upstream.setHandler(handlers.sse([{ n: 1 }, { n: 2 }, { n: 3 }], 400));
    const c = h.client(h.alice);
    const t0 = Date.now();
    const res = await c.fetch(`${h.base}/a2a/echo/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: SEND(9) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now() - t0;
    expect(Buffer.from(first.value!).toString()).toContain('"n":1');
    let rest = '';
    for (;;) {
      const x = await reader.read();
      if (x.done) break;
      rest += Buffer.from(x.value).toString();
    }
    const endAt = Date.now() - t0;
    expect(rest).toContain('"n":3');
    // the stream lasts ~800 ms after the first event; a buffering proxy would deliver everything at the end
    expect(endAt - firstAt).toBeGreaterThan(500);
    h.upstream.setHandler(handlers.jsonRpcOk());
  });

  it('aborts the upstream request when the caller disconnects', async () => {
    h.upstream.setHandler(handlers.sse([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }], 300));
    const abortedBefore = h.upstream.aborted.length;
    await new Promise<void>((resolve, reject) => {
      const req = https.request(
        `${h.base}/a2a/echo/rpc`,
        { method: 'POST', key: h.alice.keyPem, cert: h.alice.certChainPem, ca: h.td.bundlePem, agent: false, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', () => {});
      req.end(SEND(10));
      setTimeout(() => reject(new Error('no first event')), 3000);
    });
    for (let i = 0; i < 40 && h.upstream.aborted.length === abortedBefore; i++) await new Promise((r) => setTimeout(r, 50));
    expect(h.upstream.aborted.length).toBe(abortedBefore + 1);
    h.upstream.setHandler(handlers.jsonRpcOk());
  });

  it('passes tollgate-cost back to the caller but never an upstream tollgate-delegation', async () => {
    h.upstream.setHandler((req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'tollgate-cost': '0.25',
        'tollgate-delegation': 'upstream-forged',
        connection: 'x-secret',
        'x-secret': '1',
      });
      res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
    });
    const r = await rawRequest(h.alice, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, {
      method: 'POST',
      body: SEND(1),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(200);
    expect(r.headers['tollgate-cost']).toBe('0.25');
    expect(r.headers['tollgate-delegation']).toBeUndefined();
    expect(r.headers['x-secret']).toBeUndefined();
    h.upstream.setHandler(handlers.jsonRpcOk());
  });
});

describe('upstream down', () => {
  it('answers 502 fast when the upstream refuses connections', async () => {
    const h = await startHarness();
    try {
      await h.upstream.close();
      const t0 = Date.now();
      const r = await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND(2));
      expect(r.status).toBe(502);
      expect(r.json).toMatchObject({ id: 2, error: { data: { reason: 'refused' } } });
      expect(Date.now() - t0).toBeLessThan(1000);
      const text = await h.metrics.text();
      expect(text).toMatch(/tollgate_upstream_errors_total\{callee="echo",kind="refused"\} 1/);
    } finally {
      await h.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes an in-flight call, then stops accepting', async () => {
    const h = await startHarness({ handler: handlers.slow(300) });
    try {
      const inflight = post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND(1));
      await new Promise((r) => setTimeout(r, 100));
      const closed = h.gw.close(3000);
      const r = await inflight;
      expect(r.status).toBe(200);
      await closed;
      await expect(post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND(2))).rejects.toThrow();
    } finally {
      await h.close();
    }
  });
});
