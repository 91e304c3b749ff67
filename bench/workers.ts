/**
 * `tollgate serve --workers 2` against `--workers 1`, in one run: each a whole fleet of its own (a
 * PostgreSQL database, a private redis-server, its data dir), the real CLI, real SVIDs from its own CA,
 * the same policy and a stand-in upstream. Reports CPU per governed call over the whole process group
 * (primary + workers, from /proc), req/s, and the paired ratio 2 workers / 1 worker (goal: CPU per call
 * within 10%). Rounds alternate the fleets so the machine's noise falls on all, every other round in the
 * reverse order (A B, B A, ...): on this VM the fleet measured first in a round was measured dearer.
 *
 * A third fleet runs its 2 workers on core 0 only, the 1-worker fleet's core: on a 2-core machine the
 * 2-core figure also counts the workers competing with the load generator, the upstream and redis-server on
 * core 1 (fewer calls per event-loop turn, more wake-ups each), so this one is the cost of a second worker
 * itself. Both are reported; on a machine with spare cores the 2-core one is the figure to read.
 *
 * The baseline, in the same rounds: the bare undici proxy (bench/lib/bare-child.ts) in the same three shapes
 * (1 process; a node:cluster of 2 on both cores; of 2 on core 0). Its 2/1 is what a second process costs any
 * Node proxy here: on 2 shared cores that alone measured 1.33x (docs/performance.md, "Session 8"). The goal
 * is read as Tollgate's 2/1 over the bare proxy's 2/1 (each the median of per-round ratios): the part of a
 * second worker's cost that is Tollgate's own. The load generator runs on core 1, beside the upstreams and
 * redis-servers.
 *
 *   node dist/bench/workers.js [--rounds 4] [--duration 3] [--connections 32] [--rate N] [--warmup 10] [--cpu-prof DIR] [--baseline NAME=DIST ...]
 *
 * --rate N: open-loop load at N calls/s (the same for every fleet) instead of saturating load; see atRate.
 *
 * --cpu-prof DIR: every process of each `serve` (primary and workers) writes a V8 CPU profile into
 * DIR/workers-N when it stops; the calls each fleet served (warm-up included) are in the output, for
 * bench/profile-diff.ts (a worker of the 2-worker fleet served about half of its fleet's calls).
 *
 * --baseline NAME=DIST (repeatable): a 2-worker fleet of another build as well (DIST = its dist/, e.g. of a
 * worktree at the commit before a change), measured in the same rounds; reported as the median per round
 * of this build's 2-worker CPU per call over that one's. Paired seconds apart, it resolves a change that
 * the 2/1 ratio cannot on a loaded machine (docs/performance.md, "Session 6").
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { bootstrap, type SvidMaterial } from '../agent-bootstrap/index.js';
import { cpuUs, fixedRateLatency } from './lib/measure.js';
import { tempDatabase } from './lib/pg.js';
import { makeBenchPki } from './lib/pki.js';
import { BODY, firstJsonLine, freePort, pinned, saturate, stop, waitForPort } from './lib/procs.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'cli', 'main.js');
const TD = 'workers.bench';

export interface WorkersBenchResult {
  /** per worker count: lowest CPU µs per call over the process group, best req/s */
  one: { cpuUsPerReq: number; reqPerSec: number };
  two: { cpuUsPerReq: number; reqPerSec: number };
  /** median of per-round (2 workers / 1 worker) CPU per call */
  pairedCpuRatio: number;
  /**
   * the 2-worker fleet pinned to core 0 like the 1-worker one, and the median per round of its CPU per call
   * over the 1-worker fleet's: what a second worker costs by itself (the cluster, a second process's timers,
   * Redis connection and graph stream, context switches between the two), without the other core's load
   * generator, upstream and redis-server competing with the workers as they do in the 2-core figure
   */
  twoOnOneCore: { cpuUsPerReq: number; reqPerSec: number };
  pairedOneCoreRatio: number;
  /**
   * The same three shapes of the bare undici proxy (1 process, a cluster of 2 on both cores, a cluster of 2
   * on core 0), measured in the same rounds: what a second process costs this machine for proxying alone.
   */
  bare: {
    one: { cpuUsPerReq: number; reqPerSec: number };
    two: { cpuUsPerReq: number; reqPerSec: number };
    twoOnOneCore: { cpuUsPerReq: number; reqPerSec: number };
    pairedCpuRatio: number;
    pairedOneCoreRatio: number;
  };
  /**
   * Tollgate's paired 2/1 over the bare proxy's paired 2/1 (both cores; core 0): what a second worker
   * costs beyond what a second process costs any Node proxy on this machine. On a 2-core VM, where both
   * workers share their cores with the load generator, the upstream and redis-server, this is the figure
   * that isolates Tollgate's own part (the graph stream, its Redis connection, its timers).
   */
  overBare: { twoCores: number; oneCore: number };
  /** per --baseline: median of per-round (this build's 2 workers / that build's 2 workers) CPU per call */
  baselines?: { name: string; pairedCpuRatio: number }[];
  skipped?: string;
}

type Tls = { key: string; cert: string; ca: string };

interface Fleet {
  /** how the log names it: "2 worker(s)", "NAME 2 worker(s)" for a baseline build's, "bare proxy, ..." */
  name: string;
  workers: number;
  /** where the calls go: the gateway's route to echo, or the bare proxy's root */
  url: string;
  tls: Tls;
  /** its private redis-server (not in the process group: a fleet's Redis runs on another host); none for a bare proxy */
  redis?: { pid: number; port: number };
  pids(): number[];
  close(): Promise<void>;
}

/** Children of a process (the primary's workers), from /proc. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function startFleet(
  workers: number,
  upstream: { start(m: SvidMaterial): Promise<number> },
  cpuProfileDir?: string,
  build?: { name: string; dist: string },
  oneCore = false,
): Promise<Fleet> {
  const work = mkdtempSync(join(tmpdir(), `tollgate-bench-w${workers}-`));
  const db = await tempDatabase(`tg_bench_w${workers}`);
  const redisPort = await freePort();
  const redis = pinned(1, ['redis-server', '--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  let primary: ChildProcess | undefined;
  const close = async () => {
    if (primary) await stop(primary);
    await stop(redis);
    await db.drop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  };
  try {
    await waitForPort(redisPort);
    return await startServe(workers, upstream, {
      work,
      db: db.url,
      redis: { pid: redis.pid!, port: redisPort },
      cpuProfileDir,
      build,
      oneCore,
      started: (p) => (primary = p),
      close,
    });
  } catch (err) {
    // nothing of a fleet that did not start is left running (its redis-server, database, serve)
    await close();
    throw err;
  }
}

async function startServe(
  workers: number,
  upstream: { start(m: SvidMaterial): Promise<number> },
  f: {
    work: string;
    db: string;
    redis: { pid: number; port: number };
    cpuProfileDir?: string;
    build?: { name: string; dist: string };
    /** the whole process group on core 0, as the 1-worker fleet */
    oneCore?: boolean;
    started: (p: ChildProcess) => void;
    close: () => Promise<void>;
  },
): Promise<Fleet> {
  const { work } = f;
  const cli = f.build ? join(f.build.dist, 'cli', 'main.js') : CLI;
  const name = `${f.build ? `${f.build.name} ` : ''}${workers} worker(s)${f.oneCore ? ' on core 0' : ''}`;
  const redisPort = f.redis.port;
  const cfgPath = join(work, 'tollgate.yaml');
  const base = `trustDomain: ${TD}
store: ${f.db}
redis: { url: redis://127.0.0.1:${redisPort}, prefix: "b:" }
listen: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }
audit: { path: ${join(work, 'audit.log')} }
rateLimits: { perCaller: { rps: 10000000, burst: 10000000 }, perEdge: { rps: 10000000, burst: 10000000 }, maxConcurrentPerCallee: 4096 }
delegation: { task: { maxCalls: 1000000000, maxFanOut: 1000000000, maxConcurrent: 1000000 } }
`;
  writeFileSync(cfgPath, base);
  const dataDir = join(work, 'data');
  const env = { ...process.env, TOLLGATE_STORE: '' };
  execFileSync(process.execPath, [cli, 'ca', 'init', '--config', cfgPath, '--data-dir', dataDir], { env, stdio: 'ignore' });
  // only `serve` is profiled (its workers inherit the primary's node flags; NODE_OPTIONS may not carry --cpu-prof)
  const prof = f.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', join(f.cpuProfileDir, `workers-${workers}`)] : [];
  const token = (id: string) =>
    execFileSync(process.execPath, [cli, 'token', 'create', '--spiffe-id', `spiffe://${TD}/${id}`, '--config', cfgPath, '--data-dir', dataDir], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  const echoToken = token('agent/echo');
  const aliceToken = token('agent/alice');
  // the primary on core 0 (its workers inherit the affinity; with 2 workers both cores are the gateway's,
  // unless oneCore: then the 2 workers share core 0, the 1-worker fleet's CPU)
  const primary = spawn(
    'taskset',
    [
      '-c',
      coresFor(workers, f.oneCore === true),
      process.execPath,
      ...prof,
      cli,
      'serve',
      '--workers',
      String(workers),
      '--config',
      cfgPath,
      '--data-dir',
      dataDir,
    ],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  f.started(primary);
  // the last lines it wrote to stderr, for the error when it exits before its banner
  let stderrTail = '';
  primary.stderr.on('data', (b: Buffer) => {
    stderrTail = (stderrTail + b.toString()).slice(-2000);
  });
  // the banner: one worker prints the usual one, several print "proxy port P   control C ..."
  const banner = await new Promise<{ proxy: number; control: number; fp: string }>((resolve, reject) => {
    const rl = createInterface({ input: primary.stdout });
    let proxy = 0;
    let control = 0;
    rl.on('line', (l) => {
      const p = /proxy\s+(?:https:\/\/\S+?:(\d+)\/|port (\d+))/.exec(l);
      if (p) proxy = Number(p[1] ?? p[2]);
      const c = /control\s+(?:\S+:)?(\d+)/.exec(l);
      if (c) control = Number(c[1]);
      const r = /root\s+(sha256:[0-9a-f]+)/.exec(l);
      if (r) resolve({ proxy, control, fp: r[1] });
    });
    primary.once('exit', (code) => reject(new Error(`tollgate serve --workers ${workers} exited with ${code}: ${stderrTail}`)));
  });
  const fp = banner.fp;
  const server = `127.0.0.1:${banner.control}`;
  const echo = await bootstrap({ server, token: echoToken, fingerprint: fp });
  const alice = await bootstrap({ server, token: aliceToken, fingerprint: fp });
  const upPort = await upstream.start(echo);
  writeFileSync(
    cfgPath,
    `${base}agents: { echo: { url: "https://127.0.0.1:${upPort}", id: "spiffe://${TD}/agent/echo" } }
policy: [ { from: "spiffe://${TD}/agent/alice", to: [echo], methods: [message/send] } ]
`,
  );
  primary.kill('SIGHUP'); // every worker re-reads the file
  await new Promise((r) => setTimeout(r, 1500));
  return {
    name,
    workers,
    url: `https://127.0.0.1:${banner.proxy}/a2a/echo/`,
    tls: { key: alice.keyPem, cert: alice.certChainPem, ca: alice.bundlePem },
    redis: f.redis,
    pids: () => [primary.pid!, ...childrenOf(primary.pid!)],
    close: f.close,
  };
}

/**
 * The bare undici proxy (bench/lib/bare-child.ts) as 1 process or a node:cluster of `workers`, on the same
 * cores as the Tollgate fleet of that shape: what N processes cost this machine for proxying alone.
 */
async function startBareFleet(workers: number, cfgFile: string, oneCore: boolean, tls: Tls): Promise<Fleet> {
  const p = spawn('taskset', ['-c', coresFor(workers, oneCore), process.execPath, join(here, 'lib/bare-child.js'), cfgFile, String(workers)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const { port } = await firstJsonLine(p);
    return {
      name: `bare proxy, ${workers === 1 ? '1 process' : `${workers} workers`}${oneCore ? ' on core 0' : ''}`,
      workers,
      url: `https://127.0.0.1:${port}/`,
      tls,
      pids: () => [p.pid!, ...childrenOf(p.pid!)],
      close: () => stop(p),
    };
  } catch (err) {
    await stop(p);
    throw err;
  }
}

/** Redis commands per governed call since the last call (INFO commandstats, then CONFIG RESETSTAT). */
function commandsPerCall(port: number, calls: number): string {
  const cli = (...args: string[]) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
  const stats = [...cli('info', 'commandstats').matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)]
    .map(([, cmd, n]) => [cmd, Number(n) / Math.max(1, calls)] as const)
    .filter(([, n]) => n >= 0.001)
    .sort((a, b) => b[1] - a[1]);
  cli('config', 'resetstat');
  return stats.map(([cmd, n]) => `${cmd} ${n.toFixed(3)}`).join(', ');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Open-loop load at a fixed rate (bench/lib/measure.ts fixedRateLatency): every fleet gets the same calls
 * per second, far from saturation, so each worker serves about one call per event-loop turn in both fleets
 * and the 2/1 ratio is what the second worker adds (the graph stream, its Redis connection, its timers), not
 * the batching a saturated process gets and two half-loaded ones lose.
 */
async function atRate(url: string, tls: Tls, rate: number, duration: number) {
  const total = Math.round(rate * duration);
  const t0 = performance.now();
  const u = new URL(url);
  const r = await fixedRateLatency({ url: u.origin, path: u.pathname, body: BODY, rate, total, tls });
  const secs = (performance.now() - t0) / 1000;
  return {
    requests: total - r.errors,
    errors: r.errors,
    errorDetail: `${r.errors} failed or not 200; p50 ${Math.round(r.p50Us)} us, p99 ${Math.round(r.p99Us)} us`,
    reqPerSec: (total - r.errors) / secs,
  };
}

const load = (f: Fleet, o: { rate?: number; connections: number }, duration: number) => {
  if (o.rate) return atRate(f.url, f.tls, o.rate, duration);
  const u = new URL(f.url);
  return saturate(u.origin, u.pathname, f.tls, o.connections, duration);
};

/** Median over rounds of a's CPU per call over b's in the same round. */
const pairedRatio = (a: number[], b: number[]) => median(a.map((x, k) => x / b[k]));

/** The cores a fleet runs on: one worker, or two sharing core 0, on core 0; two otherwise on both. */
const coresFor = (workers: number, oneCore: boolean) => (workers === 1 || oneCore ? '0' : '0,1');

export async function runWorkersBench(
  o: {
    rounds?: number;
    duration?: number;
    connections?: number;
    cpuProfileDir?: string;
    baselines?: { name: string; dist: string }[];
    /** open-loop load at this many calls per second instead of saturating load (see the file comment) */
    rate?: number;
    /** seconds of saturating load per fleet before the rounds (default 10) */
    warmup?: number;
    log?: (l: string) => void;
  } = {},
): Promise<WorkersBenchResult> {
  const log = o.log ?? (() => undefined);
  const rounds = o.rounds ?? 4;
  const duration = o.duration ?? 3;
  const connections = o.connections ?? 32;
  const warmup = o.warmup ?? 10;
  // the load generator (this process) beside the upstreams and redis-servers on core 1, as bench/gateway does
  try {
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  } catch {
    log('warning: taskset failed; the load generator runs unpinned');
  }
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-up-'));
  const ups: ChildProcess[] = [];
  const startUpstream = async (m: { keyPem: string; chainPem: string; rootPem: string }): Promise<number> => {
    const f = join(dir, `up-${ups.length}.json`);
    writeFileSync(f, JSON.stringify(m));
    const p = pinned(1, [process.execPath, join(here, 'lib/upstream-child.js'), f]);
    ups.push(p);
    return (await firstJsonLine(p)).port;
  };
  const upstream = { start: (m: SvidMaterial) => startUpstream({ keyPem: m.keyPem, chainPem: m.certChainPem, rootPem: m.bundlePem }) };
  const fleets: Fleet[] = [];
  try {
    // one at a time: a fleet that started is closed below even if the next one fails to start
    fleets.push(await startFleet(1, upstream, o.cpuProfileDir));
    fleets.push(await startFleet(2, upstream, o.cpuProfileDir));
    fleets.push(await startFleet(2, upstream, undefined, undefined, true));
    // the baseline: the bare proxy in the same three shapes, its own PKI and upstream
    const pki = await makeBenchPki('bare.workers.bench');
    const gw = await pki.leaf('bare-proxy', '/bare/proxy', ['localhost'], ['127.0.0.1']);
    const caller = await pki.leaf('alice', '/agent/alice');
    const echo = await pki.leaf('echo', '/agent/echo', ['localhost'], ['127.0.0.1']);
    const barePort = await startUpstream({ keyPem: echo.keyPem, chainPem: echo.chainPem, rootPem: pki.rootPem });
    const bareCfg = join(dir, 'bare.json');
    writeFileSync(bareCfg, JSON.stringify({ keyPem: gw.keyPem, chainPem: gw.chainPem, rootPem: pki.rootPem, upstream: `https://127.0.0.1:${barePort}` }));
    const bareTls = { key: caller.keyPem, cert: caller.chainPem, ca: pki.rootPem };
    fleets.push(await startBareFleet(1, bareCfg, false, bareTls));
    fleets.push(await startBareFleet(2, bareCfg, false, bareTls));
    fleets.push(await startBareFleet(2, bareCfg, true, bareTls));
    for (const b of o.baselines ?? []) fleets.push(await startFleet(2, upstream, undefined, b));
    const res = fleets.map(() => ({ cpuUsPerReq: Infinity, reqPerSec: 0, rounds: [] as number[], served: 0, measured: 0 }));
    for (const [i, f] of fleets.entries()) {
      // warm-up: each worker of a 2-worker fleet gets half of it, and on this VM a gateway's CPU per call kept
      // falling for ~30 s of load after a 1 s warm-up (305 to 198 us), which counted against the 2-worker fleets
      res[i].served += (await load(f, { connections }, warmup)).requests;
      log(`${f.name}: warmed up (pids ${f.pids().join(', ')})`);
      // what the process group spends with no calls (timers, the graph stream's reads, Redis leases): under
      // open-loop load (--rate) it is part of every call's share
      await new Promise((r) => setTimeout(r, 2000)); // what the warm-up left (GC, compiles) is not idle cost
      const idle0 = f.pids().reduce((t, p) => t + cpuUs(p), 0);
      await new Promise((r) => setTimeout(r, 3000));
      log(`${f.name}: idle, ${((f.pids().reduce((t, p) => t + cpuUs(p), 0) - idle0) / 3000).toFixed(1)} ms CPU per second`);
      if (f.redis) commandsPerCall(f.redis.port, 1); // counts from the rounds only
    }
    for (let round = 0; round < rounds; round++) {
      const order = [...fleets.entries()];
      if (round % 2 === 1) order.reverse();
      for (const [i, f] of order) {
        const pids = f.pids();
        const c0 = pids.reduce((s, p) => s + cpuUs(p), 0);
        const r0 = f.redis ? cpuUs(f.redis.pid) : 0;
        const s = await load(f, { rate: o.rate, connections }, duration);
        const cpu = (pids.reduce((t, p) => t + cpuUs(p), 0) - c0) / Math.max(1, s.requests);
        const redisCpu = f.redis ? ` (redis-server ${((cpuUs(f.redis.pid) - r0) / Math.max(1, s.requests)).toFixed(1)})` : '';
        res[i].rounds.push(cpu);
        res[i].served += s.requests;
        res[i].measured += s.requests;
        res[i].cpuUsPerReq = Math.min(res[i].cpuUsPerReq, cpu);
        res[i].reqPerSec = Math.max(res[i].reqPerSec, s.reqPerSec);
        log(
          `round ${round + 1}/${rounds} ${f.name}: ${cpu.toFixed(1)} us CPU/call${redisCpu}, ${Math.round(s.reqPerSec)} req/s, ${s.errors} errors${s.errors > 0 ? ` (${s.errorDetail})` : ''}`,
        );
      }
    }
    for (const [i, f] of fleets.entries()) if (f.redis) log(`${f.name}: Redis commands per call: ${commandsPerCall(f.redis.port, res[i].measured)}`);
    if (o.cpuProfileDir)
      for (const [i, f] of fleets.slice(0, 2).entries()) log(`${f.name}: ${res[i].served} calls served (profiles in ${o.cpuProfileDir}/workers-${f.workers})`);
    const fig = (i: number) => ({ cpuUsPerReq: res[i].cpuUsPerReq, reqPerSec: res[i].reqPerSec });
    const per = res.map((r) => r.rounds);
    // [tollgate 1, tollgate 2, tollgate 2 on core 0, bare 1, bare 2, bare 2 on core 0, baselines...]
    const [tg1, tg2, tg2c0, b1, b2, b2c0] = [0, 1, 2, 3, 4, 5].map((i) => per[i]);
    const ratio = { tg: pairedRatio(tg2, tg1), tgCore0: pairedRatio(tg2c0, tg1), bare: pairedRatio(b2, b1), bareCore0: pairedRatio(b2c0, b1) };
    return {
      one: fig(0),
      two: fig(1),
      pairedCpuRatio: ratio.tg,
      twoOnOneCore: fig(2),
      pairedOneCoreRatio: ratio.tgCore0,
      bare: { one: fig(3), two: fig(4), twoOnOneCore: fig(5), pairedCpuRatio: ratio.bare, pairedOneCoreRatio: ratio.bareCore0 },
      // the quotient of the two paired medians: a per-round quotient of four figures compounds their noise
      overBare: { twoCores: ratio.tg / ratio.bare, oneCore: ratio.tgCore0 / ratio.bareCore0 },
      baselines: (o.baselines ?? []).map((b, j) => ({ name: b.name, pairedCpuRatio: pairedRatio(tg2, per[6 + j]) })),
    };
  } finally {
    for (const f of fleets) await f.close();
    for (const p of ups) await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (n: string) => {
    const i = process.argv.indexOf(`--${n}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const profIdx = process.argv.indexOf('--cpu-prof');
  const r = await runWorkersBench({
    rounds: arg('rounds'),
    duration: arg('duration'),
    connections: arg('connections'),
    rate: arg('rate'),
    warmup: arg('warmup'),
    cpuProfileDir: profIdx > 0 ? process.argv[profIdx + 1] : undefined,
    baselines: process.argv.flatMap((a, i) => {
      if (a !== '--baseline') return [];
      const [name, dist] = (process.argv[i + 1] ?? '').split('=');
      if (!name || !dist) throw new Error('--baseline NAME=DIST (the dist/ folder of another build)');
      return [{ name, dist: resolve(dist) }];
    }),
    log: (l) => console.error(l),
  });
  const x = (n: number) => `${n.toFixed(2)}x`;
  console.log(
    [
      `--workers 1: ${r.one.cpuUsPerReq.toFixed(1)} us CPU per call (process group), ${Math.round(r.one.reqPerSec)} req/s`,
      `--workers 2: ${r.two.cpuUsPerReq.toFixed(1)} us, ${Math.round(r.two.reqPerSec)} req/s; paired 2/1 ${x(r.pairedCpuRatio)}; the bare proxy's 2/1 ${x(r.bare.pairedCpuRatio)}; Tollgate's over the bare proxy's ${x(r.overBare.twoCores)} (goal within 10%)`,
      `2 workers on core 0: ${r.twoOnOneCore.cpuUsPerReq.toFixed(1)} us, ${Math.round(r.twoOnOneCore.reqPerSec)} req/s; paired 2/1 ${x(r.pairedOneCoreRatio)}; the bare proxy's ${x(r.bare.pairedOneCoreRatio)}; Tollgate's over the bare proxy's ${x(r.overBare.oneCore)}`,
      ...(r.baselines ?? []).map((b) => `2 workers of this build / of ${b.name}: ${x(b.pairedCpuRatio)}`),
    ].join('\n'),
  );
}
