import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, startStandIns, baseConfig, id, adminCtl, metricValue, type E2e, type StandIns } from './harness.js';

/**
 * Shadow rate limits through the composed gateway (what `tollgate serve` runs), over real sockets: JSON-RPC
 * calls over mTLS, `tollgate ctl` over the admin API. The shadow limits are counted, never enforced, until
 * promoted.
 */
let e: E2e;
let adminDir: string;
let agents: StandIns;
const call = (from: string, to: string, rpcId: number, headers: Record<string, string> = {}, url = e.proxyUrl) => agents.call(from, to, rpcId, headers, url);

const ctl = (args: string[]) => adminCtl(args, e.control, adminDir);

const metric = (name: string) => metricValue(e.metricsUrl, name);

const WOULD_LIMIT = 'tollgate_limits_shadow_diff_total{caller="orchestrator",callee="writer",verdict="would_limit"}';

function limitsFile(text: string): string {
  const p = path.join(e.dir, `limits-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(p, text);
  return p;
}

interface Diff {
  hasShadow: boolean;
  version: number;
  evaluated: number;
  counts: { caller: string; callee: string; verdict: string; count: number }[];
  recent: { verdict: string; callerId: string; active: string; shadow: string }[];
}
const diff = async () => JSON.parse((await ctl(['limits', 'diff', '--json'])).stdout) as Diff;

beforeAll(async () => {
  e = await startE2e(baseConfig());
  agents = await startStandIns(e, ['orchestrator', 'writer'], ['alice']);
  adminDir = e.certDir(await e.enroll(id('admin/ops')));
  // no rateLimits: the limits stage runs only for the shadow
  fs.appendFileSync(
    e.configPath,
    `agents:
${agents.agentsYaml()}
policy:
  - { from: ${id('user/alice')}, to: [orchestrator] }
  - { from: ${id('agent/orchestrator')}, to: [writer] }
`,
  );
  await e.tg.reload();
}, 60_000);

afterAll(async () => {
  await agents?.close();
  await e?.close();
});

describe('shadow rate limits: counted, not enforced, then promoted', () => {
  it('a tighter shadow perEdge rate: live calls all succeed, the counter and the diff say would_limit', async () => {
    const none = await ctl(['limits', 'diff']);
    expect(none.stdout).toContain('no shadow rate limits are set');
    const set = await ctl(['limits', 'set', '--shadow', '--file', limitsFile('rateLimits:\n  perEdge: { rps: 0.001, burst: 2 }\n')]);
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain('shadow rate limits set');
    const got = JSON.parse((await ctl(['limits', 'get', '--json'])).stdout) as Record<string, unknown>;
    expect(got).toMatchObject({ rateLimits: {}, shadowRateLimits: { perEdge: { rps: 0.001, burst: 2 } } });

    const before = await metric(WOULD_LIMIT);
    for (let i = 1; i <= 5; i++) expect((await call('orchestrator', 'writer', i)).status).toBe(200);
    // the shadow's edge bucket held 2 calls: the other 3 would have been 429
    expect(await metric(WOULD_LIMIT)).toBe(before + 3);

    const d = await diff();
    expect(d.hasShadow).toBe(true);
    expect(d.evaluated).toBe(5);
    expect(d.counts).toEqual([{ caller: 'orchestrator', callee: 'writer', verdict: 'would_limit', count: 3 }]);
    expect(d.recent).toHaveLength(3);
    expect(d.recent[0]).toMatchObject({ verdict: 'would_limit', callerId: id('agent/orchestrator'), active: 'allowed', shadow: 'edge' });
    const text = await ctl(['limits', 'diff']);
    expect(text.stdout).toMatch(/shadow rate limits \(limits version \d+\): 5 call\(s\) evaluated since .*, 3 decided differently/);
    expect(text.stdout).toMatch(/would_limit\s+orchestrator\s+writer\s+3/);
  });

  it('promote makes the shadow the rate limits in one write: now 429s; the count starts again', async () => {
    const version = JSON.parse((await ctl(['limits', 'get', '--json'])).stdout).version as number;
    const p = await ctl(['limits', 'promote', '--version', String(version)]);
    expect(p.stderr).toBe('');
    expect(p.stdout).toContain(`shadow rate limits promoted: now enforced (limits version ${version + 1})`);
    expect(e.tg.config().rateLimits).toEqual({ perEdge: { rps: 0.001, burst: 2 } });
    expect(e.tg.config().shadowRateLimits).toBeUndefined();
    // the enforced limiter starts with a full bucket of 2
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 10; i < 13; i++) {
      last = await call('orchestrator', 'writer', i);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(last!.json.error!.data!.limit).toBe('edge');
    expect(await diff()).toMatchObject({ hasShadow: false, evaluated: 0, counts: [] });
    const again = await ctl(['limits', 'promote']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no shadow rate limits are set');
    expect((await ctl(['limits', 'shadow', 'clear'])).code).toBe(1);
  });

  it('a shadow concurrency cap: its slot is given back when each call ends (sequential calls never would_limit)', async () => {
    const set = await ctl(['limits', 'set', '--shadow', '--file', limitsFile('shadowRateLimits:\n  maxConcurrentPerCallee: 1\n')]);
    expect(set.code).toBe(0);
    // two in a row on alice's edge (the enforced perEdge burst is 2): a slot kept after the first would make
    // the second would_limit
    for (let i = 20; i < 22; i++) expect((await call('alice', 'orchestrator', i)).status).toBe(200);
    const d = await diff();
    expect(d).toMatchObject({ hasShadow: true, evaluated: 2, counts: [] });
    // the enforced edge limit is still refusing the orchestrator's calls to the writer; the shadow (no edge
    // bucket) would allow them: would_allow
    const r = await call('orchestrator', 'writer', 30);
    expect(r.status).toBe(429);
    expect((await diff()).counts).toEqual([{ caller: 'orchestrator', callee: 'writer', verdict: 'would_allow', count: 1 }]);
    // and the shadow slot the refused call took is back too: the writer takes another shadow call
    expect((await call('orchestrator', 'writer', 31)).status).toBe(429);
    expect((await diff()).counts).toEqual([{ caller: 'orchestrator', callee: 'writer', verdict: 'would_allow', count: 2 }]);
  });

  it('shadow clear drops the shadow and keeps the rate limits; delegation cannot be shadowed', async () => {
    const bad = await ctl(['limits', 'set', '--shadow', '--file', limitsFile('delegation: { maxDepth: 3 }\n')]);
    expect(bad.code).toBe(2); // usage
    expect(bad.stderr).toContain('delegation cannot be shadowed');
    const rateLimits = e.tg.config().rateLimits;
    const c = await ctl(['limits', 'shadow', 'clear']);
    expect(c.stdout).toContain('shadow rate limits cleared');
    expect(e.tg.config().shadowRateLimits).toBeUndefined();
    expect(e.tg.config().rateLimits).toEqual(rateLimits);
  });
});
