/**
 * Memory bench (seconds): what an idle `tollgate serve` holds, against the floor of its dependencies, and
 * what 1,000 open idle mTLS connections to the proxy add.
 *
 *   node dist/bench/memory.js [--connections 1000] [--json]
 *
 * Method: every figure is RSS read in the measured process itself by bench/lib/memory-probe (preloaded with
 * --expose-gc) after 12 s without work (V8's memory reducer has usually run), a full GC and 0.5 s for V8 to
 * return the emptied pages, so start-up garbage and start-up heap growth do not count. The floor and the gateway idle at the same time (~40 s in all).
 *  - floor: a process that loads @grpc/grpc-js, undici, prom-client, zod, pino, better-sqlite3 and yaml and
 *    nothing else (bench/lib/floor-child)
 *  - idle: the real `node dist/cli/main.js serve` on a fresh data dir, measured once it is listening
 *  - per 1,000 connections: an agent bootstraps an SVID from a join token (as agents do), opens N mTLS
 *    connections to the proxy and leaves them idle (handshake done, no request); the gateway is measured
 *    again while /metrics reports them open (before and after), and the difference is scaled to 1,000.
 *    The config sets timeouts.headers to 10 minutes: with the default 10 s the gateway closes a connection
 *    that sent no request, and before 2026-11-30 session 6 most of them were closed while measured
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import tls from 'node:tls';
import { bootstrap } from '../agent-bootstrap/bootstrap.js';

const here = dirname(fileURLToPath(import.meta.url));
const probe = join(here, 'lib', 'memory-probe.js');
const cli = join(here, '..', 'cli', 'main.js');
const MB = 1024 * 1024;

export interface MemoryBenchOptions {
  /** idle mTLS connections opened to the proxy (default 1000) */
  connections?: number;
  log?: (line: string) => void;
}

export interface MemoryBenchResult {
  /** RSS of the dependency floor process (MB) */
  floorRssMb: number;
  /** RSS of an idle `tollgate serve` (MB) */
  idleRssMb: number;
  /** idle minus floor (MB) */
  aboveFloorMb: number;
  connections: number;
  /** RSS the gateway gained per 1,000 open idle mTLS connections (MB) */
  rssPerThousandConnectionsMb: number;
  /** of which V8 heap + external (MB per 1,000) */
  heapPerThousandConnectionsMb: number;
}

interface Usage {
  rss: number;
  heapUsed: number;
  external: number;
}

/** V8's memory reducer runs some seconds after the last busy moment (see bench/lib/memory-probe.ts) */
const IDLE_MS = 12_000;

function measure(child: ChildProcess, idleMs = IDLE_MS): Promise<Usage> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { usage: Usage; gc: boolean }) => {
      child.off('exit', onExit);
      if (!m.gc) reject(new Error('the probe has no gc(): run with --expose-gc'));
      else resolve(m.usage);
    };
    const onExit = (code: number | null) => reject(new Error(`the measured process exited (${code})`));
    child.once('message', onMessage);
    child.once('exit', onExit);
    child.send({ measure: idleMs });
  });
}

/** Spawn `node --expose-gc --import probe <args>` and wait until a stdout line matches `ready`. */
function spawnProbed(args: string[], ready: RegExp): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', probe, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 30 s: ${out}${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, out: () => out });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ready: ${out}${err}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // a gateway that has not stopped in 10 s is killed: the bench must not hang on it
    const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    // the IPC channel would keep a stopped gateway's event loop alive
    if (child.connected) child.disconnect();
    child.kill('SIGTERM');
  });
}

async function openConnections(n: number, port: number, identity: { keyPem: string; certChainPem: string; bundlePem: string }): Promise<tls.TLSSocket[]> {
  const sockets: tls.TLSSocket[] = [];
  const one = () =>
    new Promise<tls.TLSSocket>((resolve, reject) => {
      // the gateway's own SVID names 127.0.0.1 (serverNames); identity checks are the proxy bench's business
      const s = tls.connect(
        { host: '127.0.0.1', port, key: identity.keyPem, cert: identity.certChainPem, ca: identity.bundlePem, servername: 'localhost' },
        () => resolve(s),
      );
      s.once('error', reject);
    });
  // a few handshakes at a time: the gateway's handshake path, not a flood
  for (let i = 0; i < n; i += 50) sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, one))));
  return sockets;
}

async function openConnectionsGauge(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const m = /^tollgate_open_connections (\d+)/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

/**
 * The gauge once it reports `n`, or after 10 s. A TLS 1.3 client is done with its handshake before the
 * server has read its Finished and certificate: on a busy machine the gateway counted 606 of 1,000 at the
 * moment the last client connected, and all 1,000 a moment later.
 */
async function awaitOpenConnections(metricsPort: number, n: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await openConnectionsGauge(metricsPort);
    if (open === n || Date.now() > deadline) return open;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runMemoryBench(opts: MemoryBenchOptions = {}): Promise<MemoryBenchResult> {
  const n = opts.connections ?? 1000;
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-mem-'));
  const children: ChildProcess[] = [];
  const sockets: tls.TLSSocket[] = [];
  try {
    const cfg = join(dir, 'tollgate.yaml');
    // timeouts.headers: a connection that has sent no request is closed after it (10 s by default), and the
    // connections must stay open through the measurement (opening them and the idle wait take longer)
    writeFileSync(
      cfg,
      'trustDomain: tollgate.local\nserverNames: [localhost, 127.0.0.1]\nlisten: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }\ntimeouts: { headers: 10m }\n',
    );
    const dataDir = join(dir, 'data');
    const serve = await spawnProbed([cli, 'serve', '--config', cfg, '--data-dir', dataDir], /root\s+sha256:[0-9a-f]{64}/);
    children.push(serve.child);
    const out = serve.out();
    const port = (re: RegExp) => Number(re.exec(out)?.[1]);
    const proxyPort = port(/proxy\s+https:\/\/127\.0\.0\.1:(\d+)/);
    const controlPort = port(/control\s+127\.0\.0\.1:(\d+)/);
    const metricsPort = port(/metrics\s+http:\/\/127\.0\.0\.1:(\d+)/);
    const fingerprint = /root\s+(sha256:[0-9a-f]{64})/.exec(out)![1];
    const floor = await spawnProbed([join(here, 'lib', 'floor-child.js')], /ready/);
    children.push(floor.child);
    const [floorUsage, idle] = await Promise.all([measure(floor.child), measure(serve.child)]);
    await stop(floor.child);
    log(`  dependency floor: ${(floorUsage.rss / MB).toFixed(1)} MB RSS`);
    log(`  idle tollgate serve: ${(idle.rss / MB).toFixed(1)} MB RSS`);

    const token = execFileSync(
      process.execPath,
      [cli, 'token', 'create', '--spiffe-id', 'spiffe://tollgate.local/agent/bench', '--config', cfg, '--data-dir', dataDir],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    ).trim();
    const identity = await bootstrap({ server: `localhost:${controlPort}`, token, fingerprint });
    const before = await measure(serve.child);
    sockets.push(...(await openConnections(n, proxyPort, identity)));
    const open = await awaitOpenConnections(metricsPort, n);
    if (open !== n) throw new Error(`the gateway reports ${open} open connections, expected ${n}`);
    const after = await measure(serve.child);
    const stillOpen = await openConnectionsGauge(metricsPort);
    if (stillOpen !== n) throw new Error(`the gateway closed connections while they were measured: ${stillOpen} open, expected ${n}`);
    const perThousand = (a: number, b: number) => ((b - a) / MB) * (1000 / n);
    const result: MemoryBenchResult = {
      floorRssMb: floorUsage.rss / MB,
      idleRssMb: idle.rss / MB,
      aboveFloorMb: (idle.rss - floorUsage.rss) / MB,
      connections: n,
      rssPerThousandConnectionsMb: perThousand(before.rss, after.rss),
      heapPerThousandConnectionsMb: perThousand(before.heapUsed + before.external, after.heapUsed + after.external),
    };
    log(
      `  ${n} idle mTLS connections: +${result.rssPerThousandConnectionsMb.toFixed(1)} MB RSS per 1,000 (heap + external +${result.heapPerThousandConnectionsMb.toFixed(1)} MB)`,
    );
    return result;
  } finally {
    for (const s of sockets) s.destroy();
    for (const c of children) await stop(c);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--connections');
  const r = await runMemoryBench({ connections: i > 0 ? Number(process.argv[i + 1]) : undefined, log: (l) => console.error(l) });
  console.log(
    process.argv.includes('--json')
      ? JSON.stringify(r, null, 2)
      : `idle ${r.idleRssMb.toFixed(1)} MB RSS (floor ${r.floorRssMb.toFixed(1)} MB, +${r.aboveFloorMb.toFixed(1)} MB), +${r.rssPerThousandConnectionsMb.toFixed(1)} MB per 1,000 idle mTLS connections`,
  );
}
