import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import https from 'node:https';
import tls from 'node:tls';
import { startHarness, post, rawRequest, SEND, ALICE, ECHO_ID, TD, type Harness } from './harness.js';
import { FakeClock } from '../fakes/clock.js';
import { makeIntermediate, makeLeaf } from '../pki.js';
import type { TestIdentity } from '../fakes/trust-domain.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

/** The value of one metric series (0 when absent): tests compare it before and after what they do. */
async function counter(h: Harness, series: string): Promise<number> {
  for (const line of (await h.metrics.text()).split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return 0;
}

/** Poll a counter until it reaches `want` (the failure is counted asynchronously, on the server's side of the socket). */
async function pollCounter(h: Harness, series: string, want: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let v = await counter(h, series);
  while (v < want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    v = await counter(h, series);
  }
  expect(v, series).toBe(want);
}

/** Connect, send one HTTP request once the client side of the handshake is done, and report what came back. */
function tlsAttempt(opts: tls.ConnectionOptions): Promise<{ received: string; error?: string }> {
  return new Promise((resolve) => {
    let received = '';
    let error: string | undefined;
    const s = tls.connect(opts, () =>
      s.write(
        'POST /a2a/echo/rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ' +
          String(Buffer.byteLength(SEND(9))) +
          '\r\nConnection: close\r\n\r\n' +
          SEND(9),
      ),
    );
    s.setEncoding('utf8');
    s.on('data', (d: string) => (received += d));
    s.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    s.on('close', () => resolve({ received, error }));
  });
}

describe('caller identity per connection, expiry and revocation per request', () => {
  let h: Harness;
  const clock = new FakeClock();
  beforeAll(async () => {
    h = await startHarness({ now: clock.now });
  });
  afterAll(async () => h?.close());

  it('stops a revoked identity on an already-open keep-alive connection at its next request', async () => {
    const bob = await h.td.issue('spiffe://example.org/agent/bob');
    h.gw.reloadConfig(h.config({ policy: [{ from: ['spiffe://example.org/agent/*'], to: ['echo'] }] }));
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const r1 = await rawRequest(bob, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(1), headers: JSON_HEADERS, agent });
      expect(r1.status).toBe(200);
      const sock = [...Object.values(agent.freeSockets)].flat()[0];
      expect(sock).toBeDefined();
      const deniedBefore = await counter(h, 'tollgate_denials_total{caller="unknown",callee="unknown",reason="revoked"}');
      h.revoked.add(bob.serial);
      const t0 = Date.now();
      const r2 = await rawRequest(bob, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(2), headers: JSON_HEADERS, agent });
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(r2.status).toBe(403);
      expect(JSON.parse(r2.text)).toMatchObject({ id: null, error: { data: { reason: 'revoked' } } });
      expect(sock!.destroyed || r2.headers.connection === 'close').toBe(true);
      expect(await counter(h, 'tollgate_denials_total{caller="unknown",callee="unknown",reason="revoked"}')).toBe(deniedBefore + 1);
    } finally {
      agent.destroy();
      h.gw.reloadConfig(h.config());
    }
  });

  it('refuses an expired certificate on an open connection (expiry re-checked per request)', async () => {
    const carol = await h.td.issue(ALICE.replace('alice', 'carol'));
    h.gw.reloadConfig(h.config({ policy: [{ from: ['spiffe://example.org/agent/*'], to: ['echo'] }] }));
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await rawRequest(carol, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(1), headers: JSON_HEADERS, agent })).status).toBe(
        200,
      );
      clock.set(carol.notAfter + 1000);
      const r = await rawRequest(carol, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(2), headers: JSON_HEADERS, agent });
      expect(r.status).toBe(401);
      expect(JSON.parse(r.text).error.data.reason).toBe('expired');
    } finally {
      clock.set(Date.now());
      agent.destroy();
      h.gw.reloadConfig(h.config());
    }
  });

  it('keeps identity on a resumed TLS session, and refuses a revoked identity on one', async () => {
    const dave = await h.td.issue('spiffe://example.org/agent/dave');
    h.gw.reloadConfig(h.config({ policy: [{ from: ['spiffe://example.org/agent/*'], to: ['echo'] }] }));
    // a non-keep-alive agent: every request is a new connection, resuming the cached TLS session
    const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
    try {
      const r1 = await rawRequest(dave, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(1), headers: JSON_HEADERS, agent });
      expect(r1.status).toBe(200);
      expect(r1.reused).toBe(false);
      const r2 = await rawRequest(dave, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(2), headers: JSON_HEADERS, agent });
      expect(r2.reused).toBe(true);
      expect(r2.status).toBe(200);
      expect(h.upstream.requests.at(-1)!.headers['x-forwarded-client-cert']).toBe(
        'By=spiffe://example.org/tollgate/gateway;URI=spiffe://example.org/agent/dave',
      );
      h.revoked.add('spiffe://example.org/agent/dave');
      const r3 = await rawRequest(dave, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(3), headers: JSON_HEADERS, agent });
      expect(r3.reused).toBe(true);
      expect(r3.status).toBe(403);
      expect(JSON.parse(r3.text).error.data.reason).toBe('revoked');
    } finally {
      agent.destroy();
      h.gw.reloadConfig(h.config());
    }
  });

  it("accepts an SVID signed by an intermediate the gateway does not hold (another replica's), on a new and on a resumed session", async () => {
    // fleet mode: every replica signs with its own intermediate under the shared root; an agent enrolled at
    // replica A presents [leaf, A's intermediate] to replica B, whose own chain only has B's intermediate
    const otherReplica = await makeIntermediate(h.td.root, { trustDomain: TD });
    const leaf = await makeLeaf(otherReplica, { uris: ['spiffe://example.org/agent/erin'] });
    const erin: TestIdentity = {
      id: 'spiffe://example.org/agent/erin',
      keyPem: leaf.keyPem,
      certChainPem: leaf.pem + otherReplica.pem,
      leaf,
      serial: leaf.cert.serialNumber,
      notBefore: leaf.cert.notBefore.getTime(),
      notAfter: leaf.cert.notAfter.getTime(),
    };
    h.gw.reloadConfig(h.config({ policy: [{ from: ['spiffe://example.org/agent/*'], to: ['echo'] }] }));
    const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
    try {
      const r1 = await rawRequest(erin, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(1), headers: JSON_HEADERS, agent });
      expect(r1.status, r1.text).toBe(200);
      expect(r1.reused).toBe(false);
      // a resumed session: the client sends no certificate, the leaf comes from the session
      const r2 = await rawRequest(erin, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(2), headers: JSON_HEADERS, agent });
      expect(r2.reused).toBe(true);
      expect(r2.status, r2.text).toBe(200);
      expect(h.upstream.requests.at(-1)!.headers['x-forwarded-client-cert']).toBe(
        'By=spiffe://example.org/tollgate/gateway;URI=spiffe://example.org/agent/erin',
      );
    } finally {
      agent.destroy();
      h.gw.reloadConfig(h.config());
    }
  });

  it('answers 401 to a certificate that chains to the bundle but is not an SVID, and counts it', async () => {
    const before = await counter(h, 'tollgate_tls_handshake_failures_total{reason="svid_invalid"}');
    const notSvid = await makeLeaf(h.td.inter, { uris: [], dns: ['client.example.org'] });
    const id = { keyPem: notSvid.keyPem, certChainPem: notSvid.pem + h.td.inter.pem };
    const r = await post(h.client(id as never), `${h.base}/a2a/echo/rpc`, SEND(4));
    expect(r.status).toBe(401);
    expect(r.json.error.data).toMatchObject({ reason: 'unauthenticated', code: 'svid_uri_san' });
    expect(await counter(h, 'tollgate_tls_handshake_failures_total{reason="svid_invalid"}')).toBe(before + 1);
  });

  it('refuses (401) a certificate whose trust domain is upper case instead of folding it into the allowed caller', async () => {
    // crafted: chains to the bundle, a valid SVID in every other respect; folded, it would read as alice
    const crafted = await h.td.issue(ALICE.replace('example.org', 'EXAMPLE.org'));
    const before = h.upstream.requests.length;
    const r = await rawRequest(crafted, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(5), headers: JSON_HEADERS });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.text).error.data).toMatchObject({ reason: 'unauthenticated', code: 'svid_uri_san' });
    expect(JSON.parse(r.text).error.message).toMatch(/upper-case letters/);
    expect(h.upstream.requests.length).toBe(before);
  });

  it('refuses a handshake without a client certificate before any HTTP, and counts it', async () => {
    const before = await counter(h, 'tollgate_tls_handshake_failures_total{reason="no_client_cert"}');
    const upstreamBefore = h.upstream.requests.length;
    const out = await tlsAttempt({ host: '127.0.0.1', port: h.gw.port, ca: h.td.bundlePem, servername: 'localhost' });
    expect(out.received).toBe(''); // not a byte of HTTP: the TLS layer refused it
    expect(out.error).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'); // the server's TLS alert, not an HTTP answer
    expect(h.upstream.requests.length).toBe(upstreamBefore);
    await pollCounter(h, 'tollgate_tls_handshake_failures_total{reason="no_client_cert"}', before + 1);
  });

  it('refuses a handshake with a certificate from another CA before any HTTP, and counts it as bad_client_cert', async () => {
    const { makeTrustDomain } = await import('../fakes/trust-domain.js');
    const other = await makeTrustDomain('example.org');
    const stranger = await other.issue(ALICE);
    const before = await counter(h, 'tollgate_tls_handshake_failures_total{reason="bad_client_cert"}');
    const upstreamBefore = h.upstream.requests.length;
    const out = await tlsAttempt({
      host: '127.0.0.1',
      port: h.gw.port,
      ca: h.td.bundlePem,
      key: stranger.keyPem,
      cert: stranger.certChainPem,
      servername: 'localhost',
    });
    expect(out.received).toBe('');
    // Node's server drops the connection without an alert once verification failed: the client sees it closed
    expect(h.upstream.requests.length).toBe(upstreamBefore);
    // the same key and SPIFFE ID with a certificate from the gateway's own CA is served: it was the issuer that failed
    const genuine = await tlsAttempt({
      host: '127.0.0.1',
      port: h.gw.port,
      ca: h.td.bundlePem,
      key: h.alice.keyPem,
      cert: h.alice.certChainPem,
      servername: 'localhost',
    });
    expect(genuine.received).toMatch(/^HTTP\/1\.1 200 /);
    await pollCounter(h, 'tollgate_tls_handshake_failures_total{reason="bad_client_cert"}', before + 1);
  });

  it('rotates its own certificate without dropping an open connection', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const r1 = await rawRequest(h.alice, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(1), headers: JSON_HEADERS, agent });
      expect(r1.status).toBe(200);
      const sock = [...Object.values(agent.freeSockets)].flat()[0]!;
      const oldSerial = (sock as tls.TLSSocket).getPeerCertificate().serialNumber;
      const upstreamConnsBefore = new Set(h.upstream.requests.map((q) => q.peerSan)).size;
      h.creds = await h.td.gatewayCredentials();
      h.gw.reloadCredentials();
      const r2 = await rawRequest(h.alice, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(2), headers: JSON_HEADERS, agent });
      expect(r2.status).toBe(200);
      expect(sock.destroyed).toBe(false); // same connection, still open
      // a new connection sees the new certificate, and still verifies against the bundle (ca kept)
      const fresh = await new Promise<string>((resolve, reject) => {
        const s = tls.connect(
          { host: '127.0.0.1', port: h.gw.port, ca: h.td.bundlePem, key: h.alice.keyPem, cert: h.alice.certChainPem, servername: 'localhost' },
          () => {
            resolve(s.getPeerCertificate().serialNumber);
            s.destroy();
          },
        );
        s.on('error', reject);
      });
      expect(fresh).not.toBe(oldSerial);
      // clients still pass the ca check after the swap (an omitted ca would make the gateway reject them)
      const r3 = await rawRequest(h.alice, h.td.bundlePem, `${h.base}/a2a/echo/rpc`, { method: 'POST', body: SEND(3), headers: JSON_HEADERS });
      expect(r3.status).toBe(200);
      expect(upstreamConnsBefore).toBeGreaterThan(0);
    } finally {
      agent.destroy();
    }
  });
});

describe('upstream identity', () => {
  it('refuses (502) a callee whose identity or certificate was revoked, on the next call of a kept-alive upstream connection', async () => {
    const h = await startHarness();
    try {
      const c = h.client(h.alice);
      const ok = await post(c, `${h.base}/a2a/echo/rpc`, SEND(1));
      expect(ok.status).toBe(200);
      const seen = h.upstream.requests.length;

      // the gateway's pool keeps its connection to echo open: the next call would reuse it
      h.revoked.add(ECHO_ID);
      const t0 = Date.now();
      const r = await post(c, `${h.base}/a2a/echo/rpc`, SEND(2));
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(r.status).toBe(502);
      expect(r.json).toMatchObject({ id: 2, error: { data: { reason: 'identity' } } });
      expect(h.upstream.requests.length).toBe(seen); // the revoked callee never saw it

      // lifted: calls go through again (a fresh connection, validated anew)
      h.revoked.delete(ECHO_ID);
      expect((await post(c, `${h.base}/a2a/echo/rpc`, SEND(3))).status).toBe(200);

      // one certificate revoked by serial: the same, on the connection that was just opened
      h.revoked.add(h.echo.serial);
      const r2 = await post(c, `${h.base}/a2a/echo/rpc`, SEND(4));
      expect(r2.status).toBe(502);
      expect(r2.json.error.data.reason).toBe('identity');
      expect(h.upstream.requests.length).toBe(seen + 1);
      expect(await h.metrics.text()).toMatch(/tollgate_upstream_errors_total\{callee="echo",kind="identity"\} 2/);
    } finally {
      await h.close();
    }
  });

  it('refuses an upstream that presents another SPIFFE ID (502, counted as identity)', async () => {
    const h = await startHarness();
    try {
      h.gw.reloadConfig(h.config({ agents: { echo: { url: h.upstream.url, id: 'spiffe://example.org/agent/someone-else' } } }));
      const before = h.upstream.requests.length;
      const r = await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND(8));
      expect(r.status).toBe(502);
      expect(r.json).toMatchObject({ id: 8, error: { data: { reason: 'identity' } } });
      expect(h.upstream.requests.length).toBe(before);
      expect(await h.metrics.text()).toMatch(/tollgate_upstream_errors_total\{callee="echo",kind="identity"\} 1/);
    } finally {
      await h.close();
    }
  });
});
