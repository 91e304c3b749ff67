import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../proxy/metrics.js';
import { startMetricsServer } from '../../proxy/metrics-server.js';
import { bearerToken, decideAccess, decidePeerAccess, isLoopback, tokenMatches } from '../../ui/access.js';
import { UiError } from '../../ui/errors.js';
import { createGraphPage, type GraphPage, type GraphPageOptions } from '../../ui/server.js';
import { makeFixture, type Fixture } from './fixture.js';

const local = { remoteAddress: '127.0.0.1', queryToken: null, authorization: undefined };

describe('graph page access (pure decision)', () => {
  it('knows loopback addresses, including IPv4-mapped ones', () => {
    for (const a of ['127.0.0.1', '127.3.2.1', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopback(a), a).toBe(true);
    for (const a of ['10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'fe80::1', '::2', '', undefined, 'localhost']) expect(isLoopback(a), String(a)).toBe(false);
  });

  it('refuses a non-loopback peer with 403 when loopback-only, even with the right token', () => {
    expect(decideAccess({ loopbackOnly: true }, local)).toEqual({ ok: true });
    expect(decideAccess({ loopbackOnly: true }, { ...local, remoteAddress: '10.1.2.3' })).toMatchObject({ ok: false, status: 403 });
    expect(decideAccess({ loopbackOnly: true }, { ...local, remoteAddress: undefined })).toMatchObject({ ok: false, status: 403 });
    expect(decideAccess({ loopbackOnly: true, token: 's3cret' }, { remoteAddress: '10.1.2.3', queryToken: 's3cret', authorization: undefined })).toMatchObject({
      ok: false,
      status: 403,
    });
  });

  it('serves the scripts (no data) on the peer check alone', () => {
    expect(decidePeerAccess({ loopbackOnly: true }, '::1')).toEqual({ ok: true });
    expect(decidePeerAccess({ loopbackOnly: true, token: 't' }, '10.0.0.9')).toMatchObject({ ok: false, status: 403 });
    expect(decidePeerAccess({ loopbackOnly: false, token: 't' }, '10.0.0.9')).toEqual({ ok: true });
  });

  it('requires the token when not loopback-only (query or Bearer), and fails closed without one configured', () => {
    const p = { loopbackOnly: false, token: 's3cret' };
    const remote = { ...local, remoteAddress: '10.1.2.3' };
    expect(decideAccess(p, remote)).toMatchObject({ ok: false, status: 401, message: expect.stringContaining('token is required') });
    expect(decideAccess(p, { ...remote, queryToken: 's3cre' })).toMatchObject({ ok: false, status: 401, message: 'wrong token' });
    expect(decideAccess(p, { ...remote, authorization: 'Bearer nope' })).toMatchObject({ ok: false, status: 401 });
    expect(decideAccess(p, { ...remote, queryToken: 's3cret' })).toEqual({ ok: true });
    expect(decideAccess(p, { ...remote, authorization: 'Bearer s3cret' })).toEqual({ ok: true });
    expect(decideAccess({ loopbackOnly: false }, { ...remote, queryToken: 'anything' })).toMatchObject({ ok: false, status: 403 });
    expect(decideAccess({ loopbackOnly: false, token: '' }, { ...remote, queryToken: '' })).toMatchObject({ ok: false, status: 403 });
  });

  it('parses Bearer headers and compares tokens of any length', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abcd')).toBe(false);
    expect(tokenMatches('abc', null)).toBe(false);
  });

  it('createGraphPage refuses to expose the page without a token', () => {
    const f = makeFixture();
    expect(() => createGraphPage({ source: f.source, loopbackOnly: false })).toThrow(UiError);
    expect(() => createGraphPage({ source: f.source, loopbackOnly: false, token: '' })).toThrow(/needs a token/);
  });
});

interface Served {
  f: Fixture;
  page: GraphPage;
  base: string;
  close(): Promise<void>;
}

const open: Served[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function serve(opts: Partial<GraphPageOptions> = {}): Promise<Served> {
  const f = makeFixture();
  const page = createGraphPage({ source: f.source, loopbackOnly: true, refreshMs: 0, ...opts });
  const srv = await startMetricsServer({ listen: '127.0.0.1:0', metrics: createMetrics({ processMetrics: false }), routes: page.routes });
  const s: Served = {
    f,
    page,
    base: `http://127.0.0.1:${srv.port}`,
    close: async () => {
      page.close();
      await srv.close();
    },
  };
  open.push(s);
  return s;
}

/** An SSE client: collects `data:` frames and comment lines. */
function sse(url: string, headers: Record<string, string> = {}) {
  const client = {
    frames: [] as unknown[],
    comments: [] as string[],
    ended: false,
    ready: undefined as unknown as Promise<http.IncomingMessage>,
    destroy: () => req.destroy(),
  };
  let buf = '';
  let req!: http.ClientRequest;
  client.ready = new Promise<http.IncomingMessage>((resolve, reject) => {
    req = http.get(url, { headers }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) client.frames.push(JSON.parse(line.slice(6)));
            else if (line.startsWith(':')) client.comments.push(line);
          }
        }
      });
      res.on('close', () => (client.ended = true));
      resolve(res);
    });
    req.on('error', reject);
  });
  return client;
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Snap = {
  aggregate: { edges: { fromName: string; toName: string; onCycle: boolean; refusals: number }[] };
  tasks: { rootTaskId: string; loops: number }[];
  budgets: { agent: string; callsPerMinute: { used: number; limit: number | null }; costPerDay: { used: number; limit: number | null } }[];
};

describe('graph page over HTTP (real listener)', () => {
  it('serves the page, its script and the vendored library from node_modules', async () => {
    const s = await serve();
    const page = await fetch(`${s.base}/ui`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script src="/ui/vendor/cytoscape.min.js"></script>');
    expect(html).not.toMatch(/https?:\/\//);
    const app = await fetch(`${s.base}/ui/app.js`);
    expect(app.headers.get('content-type')).toMatch(/javascript/);
    expect(await app.text()).toContain('new EventSource');
    const lib = await fetch(`${s.base}/ui/vendor/cytoscape.min.js`);
    expect(lib.status).toBe(200);
    expect((await lib.text()).length).toBeGreaterThan(100_000);
    expect((await fetch(`${s.base}/ui`, { method: 'POST' })).status).toBe(405);
  });

  it('requires the token on the page and the data when not loopback-only; scripts carry no data', async () => {
    const s = await serve({ loopbackOnly: false, token: 'tok-123' });
    expect((await fetch(`${s.base}/ui`)).status).toBe(401);
    expect((await fetch(`${s.base}/ui?token=nope`)).status).toBe(401);
    expect((await fetch(`${s.base}/ui/events`)).status).toBe(401);
    expect((await fetch(`${s.base}/ui/tasks?id=x`)).status).toBe(401);
    expect((await fetch(`${s.base}/ui?token=tok-123`)).status).toBe(200);
    expect((await fetch(`${s.base}/ui`, { headers: { authorization: 'Bearer tok-123' } })).status).toBe(200);
    expect((await fetch(`${s.base}/ui/app.js`)).status).toBe(200);
    const ev = sse(`${s.base}/ui/events`, { authorization: 'Bearer tok-123' });
    expect((await ev.ready).statusCode).toBe(200);
    await until(() => ev.frames.length === 1, 'the first snapshot');
    ev.destroy();
  });

  it('serves one task tree as JSON, with the loop cut and the initiator', async () => {
    const s = await serve();
    const root = s.f.loopTask();
    const res = await fetch(`${s.base}/ui/tasks?id=${root}`);
    expect(res.status).toBe(200);
    const t = await res.json();
    expect(t.initiator.name).toBe('alice');
    expect(t.loops).toMatchObject([{ fromName: 'researcher', toName: 'orchestrator', cycleNames: ['orchestrator', 'researcher', 'orchestrator'] }]);
    expect((await fetch(`${s.base}/ui/tasks?id=nope`)).status).toBe(404);
    expect((await fetch(`${s.base}/ui/tasks`)).status).toBe(400);
    expect((await fetch(`${s.base}/ui/tasks?id=${'x'.repeat(200)}`)).status).toBe(400);
    // the path form, for a listener that routes prefixes (the handler is mounted at /ui/tasks/)
    const byPath = await new Promise<{ status: number; body: string }>((resolve) => {
      const res = {
        status: 0,
        body: '',
        writeHead(st: number) {
          this.status = st;
          return this;
        },
        end(b: string) {
          this.body = b;
          resolve({ status: this.status, body: b });
        },
      };
      const req = { method: 'GET', url: `/ui/tasks/${root}`, headers: {}, socket: { remoteAddress: '127.0.0.1' } };
      s.page.routes['/ui/tasks/'](req as never, res as never);
    });
    expect(byPath.status).toBe(200);
    expect(JSON.parse(byPath.body).rootTaskId).toBe(root);
  });

  it('pushes a snapshot on connect and after changes, coalesced, with heartbeats; close() ends the stream', async () => {
    const s = await serve({ minIntervalMs: 250, heartbeatMs: 100 });
    const root = s.f.loopTask();
    const ev = sse(`${s.base}/ui/events`);
    await ev.ready;
    await until(() => ev.frames.length === 1, 'the snapshot on connect');
    const first = ev.frames[0] as Snap;
    expect(first.tasks[0]).toMatchObject({ rootTaskId: root, loops: 1 });
    expect(first.aggregate.edges.find((e) => e.fromName === 'researcher' && e.toName === 'orchestrator')?.refusals).toBe(1);
    expect(first.budgets.find((b) => b.agent === 'orchestrator')).toMatchObject({
      callsPerMinute: { used: 1, limit: 30 },
      costPerDay: { used: 0.25, limit: 5 },
    });

    // a burst of 40 calls over ~0.5 s: a handful of snapshots, the last one has everything
    const start = Date.now();
    for (let i = 0; i < 40; i++) {
      s.f.answer(s.f.call('bob', 'writer'));
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 120));
    }
    await until(() => (ev.frames.at(-1) as Snap).aggregate.edges.some((e) => e.fromName === 'bob' && e.toName === 'writer'), 'the bob -> writer edge');
    await new Promise((r) => setTimeout(r, 400));
    const elapsed = Date.now() - start;
    const pushed = ev.frames.length - 1;
    // at most one per 250 ms (+1 for the first, which goes out at once)
    expect(pushed).toBeLessThanOrEqual(Math.floor(elapsed / 250) + 1);
    expect(pushed).toBeLessThan(40);
    const last = ev.frames.at(-1) as Snap;
    expect(last.tasks.length).toBe(41);
    await until(() => ev.comments.includes(': heartbeat'), 'a heartbeat');

    s.page.close();
    await until(() => ev.ended, 'the stream to end');
    const after = await fetch(`${s.base}/ui/events`);
    expect(after.status).toBe(503);
    await after.body?.cancel();
  });

  it('a client that disconnects is dropped (no write after close)', async () => {
    const s = await serve();
    const ev = sse(`${s.base}/ui/events`);
    await ev.ready;
    await until(() => ev.frames.length === 1, 'the snapshot on connect');
    expect(s.page.clients()).toBe(1);
    ev.destroy();
    await until(() => s.page.clients() === 0, 'the client to be dropped');
    // a change with nobody listening schedules nothing
    s.f.call('bob', 'writer');
    expect(s.page.clients()).toBe(0);
  });
});
