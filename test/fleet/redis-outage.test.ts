/**
 * Issue #13, fleet mode part 2: Redis unavailable for ~5 s under load, on two replicas of two workers each.
 * The test runs a Redis server of its own (on a free port) so it can make it go away without disturbing the
 * other tests: first frozen (SIGSTOP: the connection stays open, nothing answers, so each call waits for
 * redis.commandTimeout), then killed (SIGKILL: connection refused), then started again on the same port,
 * empty. Governed calls meanwhile answer 503 governance_unavailable (fail closed) within commandTimeout,
 * nothing crashes, `tollgate_governance_backend_up` goes 0 and comes back to 1 by itself, governed calls
 * work again, and every call made has its audit line in the replicas' audit logs.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { verifyAuditFiles } from '../../proxy/audit-verify.js';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, id, within, type Fleet, type ReplicaName } from './harness.js';
import { freePort } from '../fakes/wait.js';
import { spawnRedisServer } from '../redis.js';
import { startStandInUpstream, handlers, type StandInUpstream } from '../fakes/upstream.js';
import { mtlsClient, messageSend, type MtlsClient } from '../fakes/mtls-client.js';

const COMMAND_TIMEOUT_MS = 250;
let f: Fleet;
let upstream: StandInUpstream;
let alice: MtlsClient;
let port: number;
let server: ChildProcess | undefined;
/** every call alice made, from the first (each answered: counted in the audit check) */
const made: Answer[] = [];

/** `redis-server` of this test's own, in the foreground (a child process), no persistence */
async function startRedis(): Promise<void> {
  const child = await spawnRedisServer(port);
  server = child;
}

async function killRedis(): Promise<void> {
  const s = server;
  if (!s || s.exitCode !== null) return;
  server = undefined;
  const exited = new Promise((r) => s.once('exit', r));
  s.kill('SIGKILL');
  await exited;
}

interface Answer {
  at: number;
  on: ReplicaName;
  status: number;
  reason: string | undefined;
  ms: number;
}

async function call(on: ReplicaName, rpcId: number): Promise<Answer> {
  const at = performance.now();
  const res = await alice.fetch(`${f.replica(on).proxyUrl}/a2a/worker/`, messageSend(rpcId));
  const json = (await res.json()) as { error?: { data?: { reason?: string } } };
  const a = { at, on, status: res.status, reason: json.error?.data?.reason, ms: performance.now() - at };
  made.push(a);
  return a;
}

const tally = (xs: Answer[]) => {
  const t: Record<string, number> = {};
  for (const x of xs) {
    const k = `${x.status}${x.reason ? ` ${x.reason}` : ''}`;
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
};

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  f = await startFleet({
    redis: { url: `redis://127.0.0.1:${port}`, prefix: 'outage:', commandTimeout: `${COMMAND_TIMEOUT_MS}ms` },
    workers: 2,
    auditFile: true,
  });
  const m = await f.enroll(id('agent/worker'), 'A');
  upstream = await startStandInUpstream({ ...m, handler: handlers.jsonRpcOk() });
  const put = await f.ctl('A', 'agents', 'put', 'worker', '--url', upstream.url, '--id', id('agent/worker'));
  expect(put.code, put.err).toBe(0);
  const rules = path.join(f.work, 'rules.yaml');
  fs.writeFileSync(rules, `- { from: ${id('user/alice')}, to: [worker] }\n`);
  expect((await f.ctl('A', 'policy', 'set', '--file', rules)).code).toBe(0);
  const a = await f.enroll(id('user/alice'), 'B');
  alice = mtlsClient(a, a.bundlePem);
  await within('the policy everywhere', 5000, async () =>
    (await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((i) => call(i % 2 ? 'B' : 'A', i)))).every((r) => r.status === 200),
  );
}, 60_000);

afterAll(async () => {
  await alice?.close().catch(() => undefined);
  await upstream?.close();
  await f?.close();
  await killRedis();
});

describe('Redis unavailable for ~5 s under load', () => {
  it('503 governance_unavailable within commandTimeout, no crash, backend_up 0 then 1 by itself, calls work again, no audit line lost', async () => {
    const answers: Answer[] = [];
    const failures: unknown[] = [];
    const pids = { A: f.a.workerPids(), B: f.b.workerPids() };
    let stop = false;
    let rpc = 1000;
    // 8 callers in a loop, alternating replicas
    const load = Array.from({ length: 8 }, async (_, i) => {
      let n = 0;
      while (!stop) {
        try {
          answers.push(await call((i + n++) % 2 ? 'B' : 'A', rpc++));
        } catch (e) {
          failures.push(e);
        }
      }
    });
    // the gauge on both replicas, sampled every 100 ms
    const gauge: { at: number; A: number; B: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [a, b] = await Promise.all([f.metric('A', 'tollgate_governance_backend_up'), f.metric('B', 'tollgate_governance_backend_up')]);
        gauge.push({ at: performance.now(), A: a, B: b });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await new Promise((r) => setTimeout(r, 1500));
    const frozenAt = performance.now();
    server!.kill('SIGSTOP'); // up but silent: every round trip runs into commandTimeout
    await new Promise((r) => setTimeout(r, 2000));
    const killedAt = performance.now();
    await killRedis(); // gone: connection refused
    await new Promise((r) => setTimeout(r, 3000));
    // the load stops while Redis is still away: the gauge must come back without traffic
    stop = true;
    await Promise.all(load);
    const backAt = performance.now();
    await startRedis();
    const upIn = await within(
      'tollgate_governance_backend_up back to 1 on both replicas (no traffic)',
      8000,
      async () => (await f.metric('A', 'tollgate_governance_backend_up')) === 1 && (await f.metric('B', 'tollgate_governance_backend_up')) === 1,
      100,
    ).catch((e: unknown) => e as Error);
    sampling = false;
    await sampler;

    const before = answers.filter((a) => a.at < frozenAt - 300);
    const away = answers.filter((a) => a.at >= frozenAt && a.at + a.ms < backAt);
    const frozen = away.filter((a) => a.at < killedAt);
    const dead = away.filter((a) => a.at > killedAt + 100);
    const max = (xs: Answer[]) => Math.max(0, ...xs.map((x) => x.ms));
    console.log(
      `before: ${JSON.stringify(tally(before))}; frozen 2 s: ${JSON.stringify(tally(frozen))}, slowest ${max(frozen).toFixed(0)} ms; ` +
        `killed 3 s: ${JSON.stringify(tally(dead))}, slowest ${max(dead).toFixed(0)} ms; all: ${JSON.stringify(tally(answers))}; client errors ${failures.length}`,
    );
    const zero = gauge.filter((g) => g.at > frozenAt && g.A === 0 && g.B === 0);
    console.log(
      `backend_up 0 on both from ${zero.length ? (zero[0].at - frozenAt).toFixed(0) : '-'} ms after the freeze; ` +
        `back to 1 on both ${upIn instanceof Error ? 'NOT within 8 s' : `${upIn.toFixed(0)} ms`} after the restart`,
    );

    expect(failures).toEqual([]);
    expect(before.length).toBeGreaterThan(50);
    for (const a of before) expect(a.status).toBe(200);
    // while Redis is away: refused, fail closed, quickly, with the reason
    expect(frozen.length).toBeGreaterThan(8);
    expect(dead.length).toBeGreaterThan(8);
    for (const a of away) expect({ status: a.status, reason: a.reason }).toEqual({ status: 503, reason: 'governance_unavailable' });
    expect(max(frozen)).toBeLessThan(COMMAND_TIMEOUT_MS + 250);
    expect(max(dead)).toBeLessThan(COMMAND_TIMEOUT_MS + 250); // refused at once; the bound is the machine under load
    // the gauge saw it, and came back by itself
    expect(zero.length).toBeGreaterThan(0);
    expect(upIn).not.toBeInstanceOf(Error);

    // governed calls work again, through both replicas and every worker
    const again = await Promise.all(Array.from({ length: 16 }, (_, i) => call(i % 2 ? 'B' : 'A', 5000 + i)));
    expect(tally(again)).toEqual({ 200: 16 });
    answers.push(...again);

    // nothing crashed: the same workers serve
    expect(f.a.workerPids().sort()).toEqual(pids.A.sort());
    expect(f.b.workerPids().sort()).toEqual(pids.B.sort());
    for (const r of [f.a, f.b]) expect(r.proc.stderr()).not.toContain('worker died');

    // every call made has its audit line: stop both replicas (the audit log is flushed on SIGTERM) and count
    await f.stop('A');
    await f.stop('B');
    // each worker writes its own hash-chained file (audit.log.w<id>), and each one verifies on its own
    const bundle = [new X509Certificate(fs.readFileSync(path.join(f.work, 'a', 'root-ca.pem'))).raw];
    const files = ['a', 'b'].flatMap((d) =>
      fs
        .readdirSync(path.join(f.work, d))
        .filter((n) => /^audit\.log\.w\d+$/.test(n))
        .map((n) => ({ name: `${d}/${n}`, data: fs.readFileSync(path.join(f.work, d, n)) })),
    );
    expect(files.length).toBeGreaterThanOrEqual(4); // 2 replicas x 2 workers
    for (const file of files) expect(verifyAuditFiles([file], { bundle }).ok, file.name).toBe(true);
    const lines = files
      .flatMap((file) => file.data.toString('utf8').split('\n'))
      .filter((l) => l.includes(`"caller":"${id('user/alice')}"`))
      .map((l) => JSON.parse(l) as { status: number; reason: string });
    const inLog: Record<string, number> = {};
    for (const l of lines) inLog[`${l.status} ${l.reason}`] = (inLog[`${l.status} ${l.reason}`] ?? 0) + 1;
    const answered: Record<string, number> = {};
    for (const a of made) answered[`${a.status} ${a.reason ?? 'ok'}`] = (answered[`${a.status} ${a.reason ?? 'ok'}`] ?? 0) + 1;
    console.log(`audit lines for alice: ${lines.length} ${JSON.stringify(inLog)}; calls alice made: ${made.length} ${JSON.stringify(answered)}`);
    expect(lines).toHaveLength(made.length);
    expect(inLog).toEqual(answered);
  });
});
