/**
 * Issue #13, fleet mode part 2: two replicas (A, B) of `tollgate serve --workers 2` each, on one PostgreSQL
 * database and one Redis (a key prefix of this test's own): four processes serving, governed as one.
 * A task budget, a per-edge bucket and a per-callee concurrency cap hold exactly fleet-wide (counted at the
 * stand-in callee, not at the gateway), a cancellation made through A stops the task on B, and a worker
 * killed with SIGKILL is replaced, gives its concurrency slot back within its lease, and leaves /metrics
 * reporting the whole group.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, id, within, type Fleet, type ReplicaName } from './harness.js';
import { testRedis, TEST_REDIS_URL, type TestRedis } from '../redis.js';
import { startStandInUpstream, handlers, type StandInUpstream, type UpstreamHandler } from '../fakes/upstream.js';
import { mtlsClient, messageSend, type MtlsClient } from '../fakes/mtls-client.js';
import type { SvidMaterial } from '../../agent-bootstrap/index.js';

const LEASE_MS = 2000;
let f: Fleet;
let redis: TestRedis;
const upstreams: Record<string, StandInUpstream> = {};
const clients: Record<string, MtlsClient> = {};
const materials: Record<string, SvidMaterial> = {};

/** a stand-in handler that counts the calls in flight at the callee (and the most ever at once) */
function counting(inner: UpstreamHandler) {
  const c = {
    now: 0,
    max: 0,
    handler: (async (req, res) => {
      c.now++;
      c.max = Math.max(c.max, c.now);
      res.once('close', () => c.now--);
      await inner(req, res);
    }) as UpstreamHandler,
  };
  return c;
}

/** a handler that holds every call open until release() (or the connection goes away) */
function holding() {
  const waiting: (() => void)[] = [];
  return {
    handler: ((req, res) =>
      new Promise<void>((resolve) => {
        const done = () => {
          if (!res.writableEnded && !res.destroyed) void handlers.jsonRpcOk()(req, res);
          resolve();
        };
        waiting.push(done);
        res.once('close', resolve);
      })) as UpstreamHandler,
    release: () => waiting.splice(0).forEach((w) => w()),
  };
}

interface Answer {
  status: number;
  retryAfter: string | null;
  reason: string | undefined;
  ms: number;
}

async function post(caller: string, on: ReplicaName, agent: string, rpcId: number, delegation?: string): Promise<Answer> {
  const init = messageSend(rpcId);
  if (delegation) init.headers = { ...(init.headers as Record<string, string>), 'tollgate-delegation': delegation };
  const t0 = performance.now();
  const res = await clients[caller].fetch(`${f.replica(on).proxyUrl}/a2a/${agent}/`, init);
  const json = (await res.json()) as { error?: { data?: { reason?: string } } };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), reason: json.error?.data?.reason, ms: performance.now() - t0 };
}

const tally = (xs: Answer[]) => {
  const t: Record<string, number> = {};
  for (const x of xs) t[`${x.status}${x.reason ? ` ${x.reason}` : ''}`] = (t[`${x.status}${x.reason ? ` ${x.reason}` : ''}`] ?? 0) + 1;
  return t;
};

/** the root task id of a delegation context token (v2.<kid>.<r~c~s~...>.<mac>) */
const rootOf = (token: string) => token.slice(token.indexOf('.', 3) + 1, token.lastIndexOf('.')).split('~')[0];

const RULES = `- { from: ${id('user/carol')}, to: [orchestrator] }
- { from: ${id('agent/orchestrator')}, to: [researcher] }
- { from: ${id('user/dave')}, to: [target] }
- { from: ${id('user/erin')}, to: [slow, held] }
`;

const slow = counting(handlers.slow(400));
const held = holding();
const heldCount = counting(held.handler);

beforeAll(async () => {
  redis = testRedis();
  const t0 = performance.now();
  f = await startFleet({
    redis: { url: TEST_REDIS_URL, prefix: redis.prefix, leaseTtl: `${LEASE_MS}ms` },
    workers: 2,
    extraConfig: 'delegation: { task: { maxCalls: 50, maxFanOut: 1000, maxConcurrent: 1000 } }\n',
  });
  console.log(`2 replicas x 2 workers started in ${(performance.now() - t0).toFixed(0)} ms`);
  const callees: Record<string, UpstreamHandler> = {
    orchestrator: handlers.jsonRpcOk(),
    researcher: handlers.jsonRpcOk(),
    target: handlers.jsonRpcOk(),
    slow: slow.handler,
    held: heldCount.handler,
  };
  for (const [i, [name, handler]] of Object.entries(callees).entries()) {
    const m = await f.enroll(id(`agent/${name}`), i % 2 ? 'B' : 'A');
    upstreams[name] = await startStandInUpstream({ ...m, handler });
    const put = await f.ctl('A', 'agents', 'put', name, '--url', upstreams[name].url, '--id', id(`agent/${name}`));
    expect(put.code, put.err).toBe(0);
    if (name === 'orchestrator') clients.orchestrator = mtlsClient(m, m.bundlePem);
  }
  for (const who of ['carol', 'dave', 'erin']) {
    const m = await f.enroll(id(`user/${who}`), 'B');
    clients[who] = mtlsClient(m, m.bundlePem);
    materials[who] = m;
  }
  const rules = path.join(f.work, 'rules.yaml');
  fs.writeFileSync(rules, RULES);
  const set = await f.ctl('A', 'policy', 'set', '--file', rules);
  expect(set.code, set.err).toBe(0);
  console.log(`set up in ${(performance.now() - t0).toFixed(0)} ms`);
  // with redis: the backend's gauge is there, and up
  for (const on of ['A', 'B'] as const) expect(await f.metric(on, 'tollgate_governance_backend_up')).toBe(1);
  // the policy is in force on every worker of both replicas (4 "config applied" would need a limits write: poll)
  await within('the policy everywhere', 5000, async () => {
    const rs = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => post('carol', i % 2 ? 'B' : 'A', 'orchestrator', i)));
    return rs.every((r) => r.status === 200);
  });
}, 90_000);

afterAll(async () => {
  const t0 = performance.now();
  held.release();
  for (const c of Object.values(clients)) await c.close().catch(() => undefined);
  for (const u of Object.values(upstreams)) await u.close();
  await f?.close();
  await redis?.cleanup();
  console.log(`torn down in ${(performance.now() - t0).toFixed(0)} ms`);
});

describe('task budgets are fleet-wide', () => {
  it('200 parallel calls in one root task over both replicas with maxCalls 50: exactly 50 calls of the task forwarded, 151 task_max_calls', async () => {
    const before = upstreams.orchestrator.requests.length;
    // the root call (carol -> orchestrator, through A) is the task's first call; its context comes with it
    expect((await post('carol', 'A', 'orchestrator', 100)).status).toBe(200);
    const ctx = upstreams.orchestrator.requests.at(-1)!.headers['tollgate-delegation'] as string;
    expect(upstreams.orchestrator.requests.length).toBe(before + 1);
    const t0 = performance.now();
    const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => post('orchestrator', i % 2 ? 'B' : 'A', 'researcher', 1000 + i, ctx)));
    const took = performance.now() - t0;
    const forwarded = upstreams.researcher.requests.filter((r) => rootOf(r.headers['tollgate-delegation'] as string) === rootOf(ctx)).length;
    console.log(`maxCalls 50: 200 parallel calls in ${took.toFixed(0)} ms: ${JSON.stringify(tally(rs))}, ${forwarded} at the callee`);
    // maxCalls counts every call of the task tree: the root call and 49 of the 200
    const atCallees = forwarded + upstreams.orchestrator.requests.filter((r) => rootOf(r.headers['tollgate-delegation'] as string) === rootOf(ctx)).length;
    expect(atCallees).toBe(50);
    expect(forwarded).toBe(49);
    expect(upstreams.researcher.requests.length).toBe(49);
    expect(rs.filter((r) => r.status === 200)).toHaveLength(49);
    const refused = rs.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(151);
    for (const r of refused) expect({ status: r.status, reason: r.reason }).toEqual({ status: 429, reason: 'task_max_calls' });
    // both replicas forwarded some (the budget is one, not one each)
    const byReplica = { A: rs.filter((r, i) => i % 2 === 0 && r.status === 200).length, B: rs.filter((r, i) => i % 2 === 1 && r.status === 200).length };
    console.log(`forwarded through A: ${byReplica.A}, through B: ${byReplica.B}`);
    expect(byReplica.A).toBeGreaterThan(0);
    expect(byReplica.B).toBeGreaterThan(0);
  });

  it('`tollgate ctl task cancel` on A: the next call of the task on B is refused with 409 (context_cancelled)', async () => {
    expect((await post('carol', 'A', 'orchestrator', 200)).status).toBe(200);
    const ctx = upstreams.orchestrator.requests.at(-1)!.headers['tollgate-delegation'] as string;
    // B's workers have seen the task (they allow its calls) before the cancel
    for (let i = 0; i < 4; i++) expect((await post('orchestrator', 'B', 'researcher', 201 + i, ctx)).status).toBe(200);
    const seen = upstreams.researcher.requests.length;
    const c = await f.ctl('A', 'task', 'cancel', rootOf(ctx), '--reason', 'redis fleet test');
    expect(c.code, c.err).toBe(0);
    const rs: Answer[] = [];
    for (let i = 0; i < 4; i++) rs.push(await post('orchestrator', 'B', 'researcher', 210 + i, ctx));
    console.log(`after cancel on A, 4 calls on B: ${JSON.stringify(tally(rs))}, first in ${rs[0].ms.toFixed(1)} ms`);
    for (const r of rs) expect({ status: r.status, reason: r.reason }).toEqual({ status: 409, reason: 'context_cancelled' });
    expect(upstreams.researcher.requests.length).toBe(seen);
  });
});

describe('rate limits are fleet-wide', () => {
  it('a per-edge bucket of burst 20 hit from both replicas at once: exactly 20 pass, the rest 429 with Retry-After', async () => {
    // rps 0.01: no token comes back during the test, so "exactly 20" is exact
    await f.setLimits('rateLimits: { perEdge: { rps: 0.01, burst: 20 } }\n');
    const t0 = performance.now();
    const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => post('dave', i % 2 ? 'B' : 'A', 'target', 300 + i)));
    console.log(`perEdge burst 20: 100 parallel calls in ${(performance.now() - t0).toFixed(0)} ms: ${JSON.stringify(tally(rs))}`);
    expect(upstreams.target.requests).toHaveLength(20);
    expect(rs.filter((r) => r.status === 200)).toHaveLength(20);
    const limited = rs.filter((r) => r.status !== 200);
    expect(limited).toHaveLength(80);
    for (const r of limited) {
      expect(r.status).toBe(429);
      expect(Number(r.retryAfter), `Retry-After ${r.retryAfter}`).toBeGreaterThanOrEqual(1);
    }
    // both replicas passed some: one bucket for the fleet
    expect(rs.filter((r, i) => i % 2 === 0 && r.status === 200).length).toBeGreaterThan(0);
    expect(rs.filter((r, i) => i % 2 === 1 && r.status === 200).length).toBeGreaterThan(0);
  });

  it('maxConcurrentPerCallee 4 with a slow callee (400 ms): never more than 4 in flight fleet-wide, the others 429', async () => {
    await f.setLimits('rateLimits: { maxConcurrentPerCallee: 4 }\n');
    const all: Answer[] = [];
    const t0 = performance.now();
    // three waves of 40 over ~1.5 s: each wave finds the slots the last one freed
    for (let w = 0; w < 3; w++) {
      const wave = await Promise.all(Array.from({ length: 40 }, (_, i) => post('erin', i % 2 ? 'B' : 'A', 'slow', 400 + w * 100 + i)));
      all.push(...wave);
    }
    const ok = all.filter((r) => r.status === 200);
    console.log(
      `maxConcurrentPerCallee 4: 120 calls in 3 waves in ${(performance.now() - t0).toFixed(0)} ms: ${JSON.stringify(tally(all))}, most in flight at the callee ${slow.max}`,
    );
    expect(slow.max).toBe(4);
    expect(ok.length).toBe(upstreams.slow.requests.length);
    expect(ok.length).toBeGreaterThanOrEqual(4);
    for (const r of all.filter((x) => x.status !== 200)) {
      expect({ status: r.status, reason: r.reason }).toMatchObject({ status: 429 });
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('a worker killed with SIGKILL', () => {
  it('is replaced; the concurrency slot it held comes back within its lease; /metrics still reports the whole group', async () => {
    await f.setLimits('rateLimits: { maxConcurrentPerCallee: 1 }\n');
    const a = f.a;
    const pidsBefore = a.workerPids();
    expect(pidsBefore).toHaveLength(2);
    // one call through A holds the callee's only slot
    const holder = post('erin', 'A', 'held', 500).catch((e: unknown) => e);
    await within('the held call at the callee', 5000, () => heldCount.now === 1);
    // which worker forwards it: the owner of the gateway's end of the callee's connection
    const victim = ownerOf(calleePeerPort(upstreams.held.port), pidsBefore);
    expect(pidsBefore).toContain(victim);
    // the slot outlives its lease while the call runs (renewed): a call through B is refused after 1.5 leases
    await new Promise((r) => setTimeout(r, LEASE_MS * 1.5));
    const during = await post('erin', 'B', 'held', 501);
    expect({ status: during.status, reason: during.reason }).toEqual({ status: 429, reason: 'concurrency' });

    process.kill(victim, 'SIGKILL');
    const killedAt = performance.now();
    await holder; // the connection died with the worker
    // the primary replaced it
    const replacedIn = await within(
      'a replacement worker',
      15_000,
      () => {
        const now = a.workerPids();
        return now.length === 2 && !now.includes(victim);
      },
      50,
    );
    console.log(`worker ${victim} replaced within ${(performance.now() - killedAt).toFixed(0)} ms of the kill (${replacedIn.toFixed(0)} ms polling)`);

    // /metrics answers at once while the replacement starts (the group's counters are the survivor's): it was
    // asked for its metrics before it could answer, and every scrape waited 5 s and failed (500)
    const scrape0 = performance.now();
    const res = await fetch(`${a.metricsUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    const scrapeMs = performance.now() - scrape0;
    console.log(`/metrics while the replacement starts: ${res.status} in ${scrapeMs.toFixed(0)} ms`);
    expect(res.status).toBe(200);
    expect(scrapeMs).toBeLessThan(1000);
    const replacement = a.workerPids().find((p) => !pidsBefore.includes(p))!;
    expect(a.proc.stderr(), 'the replacement was still starting').not.toContain(`worker serving worker=${replacement} `);
    // the slot comes back no later than its lease: probe through B (another replica) until a call gets it
    // (a call that gets it is held at the callee: seen there, not answered)
    const probes: Promise<Answer>[] = [];
    await within(
      'the slot',
      LEASE_MS + 2000,
      async () => {
        const p = post('erin', 'B', 'held', 502);
        probes.push(p);
        const granted = within('', 1000, () => heldCount.now > 0, 5).then(
          () => undefined,
          () => undefined,
        );
        const r = await Promise.race([p, granted]);
        if (r !== undefined) expect({ status: r.status, reason: r.reason }).toEqual({ status: 429, reason: 'concurrency' });
        return heldCount.now > 0;
      },
      50,
    );
    const back = performance.now() - killedAt;
    held.release();
    for (const p of probes) expect((await p).status).not.toBe(502);
    console.log(`slot of the SIGKILLed worker back after ${back.toFixed(0)} ms (lease ${LEASE_MS} ms, renewed every 1000 ms)`);
    expect(back).toBeLessThanOrEqual(LEASE_MS + 250);

    // the replacement serves (the primary's "worker serving" line for it) ...
    await within('the replacement serving', 15_000, () => a.proc.stderr().includes(`worker serving worker=${replacement} `), 25);
    console.log(`replacement serving ${(performance.now() - killedAt).toFixed(0)} ms after the kill`);
    // ... and /metrics counts the calls of both workers
    const series = ['callee="orchestrator"', 'status="200"'];
    const before = await f.metricSum('A', 'tollgate_requests_total', series);
    // 20 calls, each on a connection of its own: the primary hands new connections to its workers in turn
    for (let i = 0; i < 20; i++) {
      const c = mtlsClient(materials.carol, materials.carol.bundlePem, { connections: 1 });
      const r = await c.fetch(`${a.proxyUrl}/a2a/orchestrator/`, messageSend(600 + i));
      expect(r.status).toBe(200);
      await r.arrayBuffer();
      await c.close();
    }
    const after = await f.metricSum('A', 'tollgate_requests_total', series);
    console.log(`20 calls through A after the replacement: tollgate_requests_total{${series.join(',')}} ${before} -> ${after}`);
    expect(after - before).toBe(20);
  });
});

/** the local port of the gateway's connection to a stand-in callee listening on `port` */
function calleePeerPort(port: number): number {
  const out = execFileSync('ss', ['-tnH', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' });
  const ports = out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length >= 4)
    .map((c) => Number(c[2].slice(c[2].lastIndexOf(':') + 1)));
  expect(ports, out).toHaveLength(1);
  return ports[0];
}

/** which of `pids` owns the TCP connection from local port `port` */
function ownerOf(port: number, pids: number[]): number {
  for (const pid of pids) {
    const fds = fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    const inodes = new Set(fds.filter((l) => l.startsWith('socket:[')).map((l) => l.slice(8, -1)));
    const tcp = fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1);
    for (const line of tcp) {
      const c = line.trim().split(/\s+/);
      if (c.length < 10) continue;
      const localPort = parseInt(c[1].split(':')[1], 16);
      if (localPort === port && inodes.has(c[9])) return pid;
    }
  }
  throw new Error(`no process of ${pids.join(', ')} owns local port ${port}`);
}

describe('stopping a replica of 2 workers', () => {
  it('SIGTERM: both workers stop, the primary exits 0 within a second or two (no SIGKILL at the shutdown timeout)', async () => {
    const b = f.b;
    const pids = b.workerPids();
    expect(pids).toHaveLength(2);
    const t0 = performance.now();
    await f.stop('B'); // expects exit code 0 (the harness's stop escalates to SIGKILL after 10 s)
    const took = performance.now() - t0;
    console.log(`replica B (2 workers) stopped with SIGTERM in ${took.toFixed(0)} ms`);
    for (const pid of pids) expect(() => process.kill(pid, 0), `worker ${pid} still running`).toThrow();
    expect(took).toBeLessThan(3000);
    expect(b.proc.stderr()).not.toContain('SIGKILL');
  });
});
