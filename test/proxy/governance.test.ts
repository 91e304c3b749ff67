import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { startHarness, post, SEND, ALICE, MALLORY, type Harness } from './harness.js';
import { createAuditLog, startMetricsServer, refusal } from '../../proxy/index.js';
import type { Exchange } from '../../proxy/index.js';

function httpGet(url: string): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (c: Buffer | string) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
      })
      .on('error', reject);
  });
}

/** Strict check of the Prometheus text format: every line a comment or `name{labels} value`. */
function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    out.set(m[1] + (m[2] ?? ''), Number(m[3]));
  }
  return out;
}

describe('metrics, audit log, rate limits, delegation slot', () => {
  let h: Harness;
  let dir: string;
  let auditPath: string;
  const seen: { before: string[]; after: { status: number; contentType: string | undefined }[]; refused: string[]; complete: number } = {
    before: [],
    after: [],
    refused: [],
    complete: 0,
  };
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-gov-'));
    auditPath = path.join(dir, 'audit.log');
    h = await startHarness({
      audit: createAuditLog({ path: auditPath, flushOnSigterm: false }),
      extraConfig: { rateLimits: { perEdge: { rps: 1, burst: 2 } } },
      governance: {
        beforeForward(ctx: Exchange) {
          seen.before.push(`${ctx.callerName}->${ctx.callee}:${ctx.method}`);
          if (ctx.header('x-test-refuse') === 'loop') {
            return refusal(409, -32050, 'loop', 'delegation loop: alice -> echo -> alice', { data: { chain: ['alice', 'echo'] } });
          }
          ctx.setUpstreamHeader('tollgate-delegation', 'ctx-from-stage');
          return Promise.resolve(undefined);
        },
        onResponse(ex) {
          seen.after.push({ status: ex.status, contentType: ex.responseHeader('content-type') });
        },
        onRefused(_ctx, r) {
          seen.refused.push(r.reason);
        },
        onComplete() {
          seen.complete++;
        },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs the delegation slot: its header reaches the callee, afterResponse sees the answer', async () => {
    const r = await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND(1), {
      'tollgate-delegation': 'forged-by-caller',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(r.status).toBe(200);
    expect(h.upstream.requests.at(-1)!.headers['tollgate-delegation']).toBe('ctx-from-stage');
    expect(seen.before.at(-1)).toBe('external->echo:SendMessage'); // matched a rule, not a registered agent
    expect(seen.after.at(-1)!.status).toBe(200);
    expect(seen.after.at(-1)!.contentType).toBe('application/json');
    expect(seen.complete).toBeGreaterThan(0);
  });

  it('maps a beforeForward refusal to its status and a JSON-RPC error; the callee never sees it', async () => {
    const before = h.upstream.requests.length;
    const r = await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND('r1'), { 'x-test-refuse': 'loop' });
    expect(r.status).toBe(409);
    expect(r.json).toEqual({
      jsonrpc: '2.0',
      id: 'r1',
      error: { code: -32050, message: 'delegation loop: alice -> echo -> alice', data: { reason: 'loop', chain: ['alice', 'echo'] } },
    });
    expect(h.upstream.requests.length).toBe(before);
    expect(seen.refused).toContain('loop');
  });

  it('rate-limits an edge with 429, Retry-After and a JSON-RPC error', async () => {
    const c = h.client(h.alice);
    let limited: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 4 && !limited; i++) {
      const r = await post(c, `${h.base}/a2a/echo/rpc`, SEND(100 + i));
      if (r.status === 429) limited = r;
    }
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited!.json.error).toMatchObject({ code: -31429, data: { reason: 'edge', limit: 'edge' } });
  });

  it('serves /metrics as valid Prometheus text whose counters move with traffic', async () => {
    const ms = await startMetricsServer({ listen: '127.0.0.1:0', metrics: h.metrics, routes: { '/graph': (_q, s) => s.end('{}') } });
    try {
      const before = parseProm((await httpGet(`http://127.0.0.1:${ms.port}/metrics`)).body);
      await post(h.client(h.mallory), `${h.base}/a2a/echo/rpc`, SEND(1));
      const res = await httpGet(`http://127.0.0.1:${ms.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.type).toContain('text/plain');
      const after = parseProm(res.body);
      const denied = 'tollgate_denials_total{caller="unknown",callee="echo",reason="no_rule"}';
      expect((after.get(denied) ?? 0) - (before.get(denied) ?? 0)).toBe(1);
      expect(after.get('tollgate_requests_total{caller="unknown",callee="echo",method="SendMessage",status="403"}')).toBeGreaterThanOrEqual(1);
      expect(after.get('tollgate_requests_total{caller="external",callee="echo",method="SendMessage",status="200"}')).toBeGreaterThanOrEqual(1);
      expect(after.get('tollgate_rate_limited_total{caller="external",callee="echo",limit="edge"}')).toBeGreaterThanOrEqual(1);
      expect(after.get('tollgate_open_connections')).toBeGreaterThanOrEqual(1);
      expect(after.get('tollgate_gateway_cert_expiry_seconds')).toBeGreaterThan(3000);
      expect([...after.keys()].some((k) => k.startsWith('tollgate_request_duration_seconds_bucket{'))).toBe(true);
      for (const name of [
        'tollgate_delegation_refusals_total',
        'tollgate_loops_cut_total',
        'tollgate_call_graph_cycles',
        'tollgate_budget_exhausted_total',
        'tollgate_cost_total',
        'tollgate_intermediate_cert_expiry_seconds',
        'tollgate_certificates_issued_total',
        'tollgate_ca_signing_failures_total',
      ]) {
        expect(res.body).toContain(`# TYPE ${name} `);
      }
      expect((await httpGet(`http://127.0.0.1:${ms.port}/graph`)).body).toBe('{}');
    } finally {
      await ms.close();
    }
  });

  it('labels a registered agent caller by name and anyone matching a rule as external', async () => {
    // no rate limit here: the earlier tests drained alice's edge bucket, and a 429 must not stand in for the call
    h.gw.reloadConfig(
      h.config({
        agents: { echo: { url: h.upstream.url, id: 'spiffe://example.org/agent/echo' }, alice: { url: 'https://127.0.0.1:1', id: ALICE } },
        policy: [{ from: [ALICE, 'spiffe://example.org/agent/*'], to: ['echo'] }],
        rateLimits: {},
      }),
    );
    try {
      const ok = (caller: string) => `tollgate_requests_total{caller="${caller}",callee="echo",method="SendMessage",status="200"}`;
      const before = parseProm(await h.metrics.text());
      expect((await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND('label-1'))).status).toBe(200);
      const mid = parseProm(await h.metrics.text());
      expect((await post(h.client(h.mallory), `${h.base}/a2a/echo/rpc`, SEND('label-2'))).status).toBe(200);
      const after = parseProm(await h.metrics.text());
      const delta = (a: Map<string, number>, b: Map<string, number>, k: string) => (b.get(k) ?? 0) - (a.get(k) ?? 0);
      // alice is registered as an agent: her call is labelled "alice", not "external" (nor her SPIFFE ID)
      expect(delta(before, mid, ok('alice'))).toBe(1);
      expect(delta(before, mid, ok('external'))).toBe(0);
      // mallory is not registered and matched only the /* rule: "external"
      expect(delta(mid, after, ok('external'))).toBe(1);
      expect(delta(mid, after, ok('alice'))).toBe(0);
      expect([...after.keys()].some((k) => k.includes('mallory') || k.includes('spiffe://'))).toBe(false);
    } finally {
      h.gw.reloadConfig(h.config());
    }
  });

  it('writes one JSON audit line per call', async () => {
    // its own calls, each with its own trace id, so the lines it checks are the ones it caused
    const trace = () => {
      const traceId = randomBytes(16).toString('hex');
      return { traceId, headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } };
    };
    const ok = trace();
    expect((await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND('a1'), ok.headers)).status).toBe(200);
    const denied = trace();
    expect((await post(h.client(h.mallory), `${h.base}/a2a/echo/rpc`, SEND('a2'), denied.headers)).status).toBe(403);
    const loop = trace();
    expect((await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND('a3'), { ...loop.headers, 'x-test-refuse': 'loop' })).status).toBe(409);
    const unknown = trace();
    expect((await post(h.client(h.mallory), `${h.base}/a2a/nobody/x`, SEND('a4'), unknown.headers)).status).toBe(404);
    const limitedTraces: string[] = [];
    for (let i = 0; i < 6; i++) {
      const t = trace();
      limitedTraces.push(t.traceId);
      if ((await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND(`a5-${i}`), t.headers)).status === 429) break;
    }
    await h.gw.close(100); // flushes
    const lines = fs
      .readFileSync(auditPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const byTrace = (t: string) => lines.filter((l) => l.traceId === t);
    expect(byTrace(ok.traceId)).toHaveLength(1);
    const line = byTrace(ok.traceId)[0];
    expect(line).toMatchObject({ caller: ALICE, callee: 'echo', method: 'SendMessage', decision: 'allow', reason: 'ok', status: 200, kind: 'call' });
    expect(line.bytesIn).toBeGreaterThan(50);
    expect(line.bytesOut).toBeGreaterThan(50);
    expect(line.durationUs).toBeGreaterThan(0);
    expect(Math.abs(line.time - Date.now())).toBeLessThan(60_000); // epoch ms
    expect(byTrace(denied.traceId)).toEqual([expect.objectContaining({ decision: 'deny', reason: 'no_rule', caller: MALLORY, status: 403 })]);
    expect(byTrace(loop.traceId)).toEqual([expect.objectContaining({ decision: 'refuse', reason: 'loop', status: 409, caller: ALICE })]);
    expect(byTrace(unknown.traceId)).toEqual([expect.objectContaining({ reason: 'unknown_agent', status: 404, caller: MALLORY })]);
    expect(byTrace(limitedTraces.at(-1)!)).toEqual([expect.objectContaining({ decision: 'limit', status: 429, caller: ALICE })]);
    expect((fs.statSync(auditPath).mode & 0o777).toString(8)).toBe('600');
  });
});
