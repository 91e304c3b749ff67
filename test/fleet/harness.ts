/**
 * A fleet of two real `tollgate serve` processes (dist/cli/main.js, as test/cli/run.ts spawns them), A and B,
 * on one PostgreSQL database: A starts first and makes the fleet's root; its root-ca.pem is copied (0600)
 * into B's data dir before B starts, as an operator does. Every listener is on port 0; the ports are read
 * from each banner, and a restarted replica gets new ones.
 *
 * The operator's side: the first admin token with `tollgate token create --store`, the admin's identity with
 * agent-bootstrap, then `tollgate ctl` (runCtl, what the CLI runs) and the admin gRPC API (tokens in bulk).
 *
 * Fleet mode, part 2 (options): `redis` adds a `redis:` section (a prefix of the test's own), `workers`
 * starts each replica as `serve --workers N` (a primary and N node:cluster workers; the primary's banner
 * names the ports), `auditFile` writes each replica's audit log to <data dir>/audit.log instead of stdout.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { expect } from 'vitest';
import { ensureBuilt, start, tollgate, type Running } from '../cli/run.js';
import { createTestDatabase } from '../pg.js';
import { adminClient, call, type AdminClient } from '../admin/harness.js';
import { bootstrap, type SvidMaterial } from '../../agent-bootstrap/index.js';
import { runCtl } from '../../cli/ctl/index.js';

export const TD = 'fleet.test';
export const id = (p: string) => `spiffe://${TD}/${p}`;
export const ADMIN_ID = id('admin/ops');

export type ReplicaName = 'A' | 'B';

export interface Replica {
  name: ReplicaName;
  dataDir: string;
  proc: Running;
  /** control listener HOST:PORT */
  control: string;
  /** https://HOST:PORT of the mTLS proxy */
  proxyUrl: string;
  /** http://HOST:PORT of the metrics listener */
  metricsUrl: string;
  /** the serve process (the primary with --workers) */
  pid: number;
  /** the pids of its node:cluster workers (none without --workers) */
  workerPids(): number[];
}

export interface Fleet {
  work: string;
  /** the store URL both replicas were started with */
  store: string;
  configPath: string;
  /** the fleet's root fingerprint (the same in both banners) */
  fp: string;
  /** the running replica by name (a restart replaces it) */
  replica(name: ReplicaName): Replica;
  readonly a: Replica;
  readonly b: Replica;
  /** (re)start a replica on its data dir; resolves once its banner is printed */
  start(name: ReplicaName): Promise<Replica>;
  /** SIGTERM, and it must exit 0 */
  stop(name: ReplicaName): Promise<void>;
  /** SIGKILL (kill -9) */
  kill(name: ReplicaName): Promise<void>;
  /** the admin's identity directory (key.pem, cert.pem, bundle.pem) for `tollgate ctl --cert-dir` */
  adminDir: string;
  /** `tollgate ctl ARGS --server <replica> --cert-dir <admin>` */
  ctl(on: ReplicaName, ...args: string[]): Promise<{ code: number; out: string; err: string }>;
  /** a join token through the admin API of a replica */
  token(spiffeId: string, on?: ReplicaName): Promise<string>;
  /** a unary admin API call on a replica */
  admin<T = any>(on: ReplicaName, method: string, req: object): Promise<T>;
  /** bootstrap an identity at a replica (agent-bootstrap over gRPC) with a fresh token */
  enroll(spiffeId: string, on: ReplicaName): Promise<SvidMaterial>;
  /** one unlabelled series of a replica's /metrics (NaN when absent) */
  metric(on: ReplicaName, name: string): Promise<number>;
  /** the sum of every series of a metric on a replica's /metrics with all of `labels` (`k="v"`); 0 when none */
  metricSum(on: ReplicaName, name: string, labels?: string[]): Promise<number>;
  /** `tollgate ctl limits set` with this YAML, through A; resolves once every worker of both replicas applied it */
  setLimits(yaml: string): Promise<void>;
  /** a query on the fleet's database */
  query<R extends pg.QueryResultRow = any>(sql: string, values?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export interface FleetRedis {
  url: string;
  prefix: string;
  commandTimeout?: string;
  leaseTtl?: string;
}

export function fleetConfig(extra = '', o: { redis?: FleetRedis; auditFile?: boolean } = {}): string {
  // controlUnauthenticated: hundreds of agents bootstrap at once in these tests (each a TLS connection without a client cert)
  const r = o.redis;
  const redis = r
    ? `redis: { url: "${r.url}", prefix: "${r.prefix}"${r.commandTimeout ? `, commandTimeout: ${r.commandTimeout}` : ''}${r.leaseTtl ? `, leaseTtl: ${r.leaseTtl}` : ''} }\n`
    : '';
  return `trustDomain: ${TD}
serverNames: [localhost, 127.0.0.1]
listen: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }
admins: [${ADMIN_ID}]
connections: { controlUnauthenticated: 1024 }
${o.auditFile ? '' : 'audit: { path: "-" }\n'}${redis}${extra}`;
}

const BANNER = {
  proxy: /proxy\s+https:\/\/(127\.0\.0\.1:\d+)\//,
  control: /control\s+(127\.0\.0\.1:\d+)/,
  metrics: /metrics\s+http:\/\/(127\.0\.0\.1:\d+)\/metrics/,
  root: /root\s+(sha256:[0-9a-f]{64})/,
  end: /npm run demo.*\n/,
};

/** the primary's banner (serve --workers N): printed once its first worker serves, the root line last */
const WORKERS_BANNER = {
  proxy: /proxy\s+port (\d+)/,
  control: /control (\d+)/,
  metrics: /metrics (\d+) \(\/metrics: all workers\)/,
  root: /root\s+(sha256:[0-9a-f]{64})\n/,
};

/**
 * Start A on `store` (a fresh test database when not given), copy its root into B's data dir, start B.
 * `extraConfig`: YAML appended to the shared config file.
 */
export async function startFleet(
  opts: { store?: string; extraConfig?: string; redis?: FleetRedis; workers?: number; auditFile?: boolean } = {},
): Promise<Fleet> {
  ensureBuilt();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-fleet-'));
  const db = opts.store === undefined ? await createTestDatabase() : undefined;
  const store = opts.store ?? db!.url;
  const configPath = path.join(work, 'tollgate.yaml');
  fs.writeFileSync(configPath, fleetConfig(opts.extraConfig, opts));
  const workers = opts.workers ?? 1;
  const dataDirs: Record<ReplicaName, string> = { A: path.join(work, 'a'), B: path.join(work, 'b') };
  const running: Partial<Record<ReplicaName, Replica>> = {};
  const clients: Partial<Record<ReplicaName, AdminClient>> = {};
  const pool = new pg.Pool({ connectionString: store, max: 2 });
  pool.on('error', () => undefined); // the outage test stops the server under it
  let fp = '';
  let adminCreds: grpc.ChannelCredentials | undefined;

  const replica = (name: ReplicaName): Replica => {
    const r = running[name];
    if (!r) throw new Error(`replica ${name} is not running`);
    return r;
  };

  const startReplica = async (name: ReplicaName): Promise<Replica> => {
    if (running[name]) throw new Error(`replica ${name} is already running`);
    // readable log lines: the waits below match "worker serving ... serving=N" and " config applied"
    const args = ['serve', '--config', configPath, '--data-dir', dataDirs[name], '--store', store, '--log-format', 'pretty'];
    const proc = start(workers > 1 ? [...args, '--workers', String(workers)] : args);
    try {
      let ports: { proxy: string; control: string; metrics: string };
      let root: RegExpMatchArray;
      if (workers > 1) {
        const [p, c, m, r] = await Promise.all([
          proc.waitFor(WORKERS_BANNER.proxy),
          proc.waitFor(WORKERS_BANNER.control),
          proc.waitFor(WORKERS_BANNER.metrics),
          proc.waitFor(WORKERS_BANNER.root),
        ]);
        ports = { proxy: `127.0.0.1:${p[1]}`, control: `127.0.0.1:${c[1]}`, metrics: `127.0.0.1:${m[1]}` };
        root = r;
      } else {
        const [p, c, m, r] = await Promise.all([
          proc.waitFor(BANNER.proxy),
          proc.waitFor(BANNER.control),
          proc.waitFor(BANNER.metrics),
          proc.waitFor(BANNER.root),
        ]);
        await proc.waitFor(BANNER.end);
        ports = { proxy: p[1], control: c[1], metrics: m[1] };
        root = r;
      }
      if (fp === '') fp = root[1];
      expect(root[1], `replica ${name} runs under another root`).toBe(fp);
      const pid = proc.child.pid!;
      const r: Replica = {
        name,
        dataDir: dataDirs[name],
        proc,
        control: ports.control,
        proxyUrl: `https://${ports.proxy}`,
        metricsUrl: `http://${ports.metrics}`,
        pid,
        workerPids: () => childPids(pid),
      };
      if (workers > 1) {
        // the banner comes with the FIRST worker: wait for all ("worker serving" from the primary, one per worker)
        await proc.waitFor(new RegExp(`worker serving .*serving=${workers} workers=${workers}`));
      }
      running[name] = r;
      return r;
    } catch (e) {
      await proc.stop('SIGKILL');
      throw e;
    }
  };

  const forget = (name: ReplicaName) => {
    clients[name]?.close();
    clients[name] = undefined;
    running[name] = undefined;
  };

  const adminOf = (name: ReplicaName): AdminClient => {
    if (!adminCreds) throw new Error('no admin identity yet');
    return (clients[name] ??= adminClient(replica(name).control, adminCreds));
  };

  const fleet: Fleet = {
    work,
    store,
    configPath,
    get fp() {
      return fp;
    },
    replica,
    get a() {
      return replica('A');
    },
    get b() {
      return replica('B');
    },
    start: startReplica,
    async stop(name) {
      const r = replica(name);
      forget(name);
      const code = await r.proc.stop('SIGTERM');
      expect(code, `replica ${name} did not stop cleanly:\n${r.proc.stderr().slice(-3000)}`).toBe(0);
    },
    async kill(name) {
      const r = replica(name);
      forget(name);
      await r.proc.stop('SIGKILL');
    },
    adminDir: path.join(work, 'admin-id'),
    async ctl(on, ...args) {
      let out = '';
      let err = '';
      const code = await runCtl([...args, '--server', replica(on).control, '--cert-dir', fleet.adminDir], {
        stdout: (t) => void (out += t),
        stderr: (t) => void (err += t),
      });
      return { code, out, err };
    },
    admin(on, method, req) {
      return call(adminOf(on), method, req);
    },
    async token(spiffeId, on = 'A') {
      const res = await call<{ token: string }>(adminOf(on), 'CreateJoinToken', { spiffeId, ttl: '10m' });
      return res.token;
    },
    async enroll(spiffeId, on) {
      const token = await fleet.token(spiffeId, on);
      return bootstrap({ server: replica(on).control, token, fingerprint: fp });
    },
    async metric(on, name) {
      const text = await (await fetch(`${replica(on).metricsUrl}/metrics`)).text();
      for (const line of text.split('\n')) if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1));
      return NaN;
    },
    async metricSum(on, name, labels = []) {
      const text = await (await fetch(`${replica(on).metricsUrl}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/);
        if (!m || m[1] !== name || !labels.every((l) => (m[2] ?? '').includes(l))) continue;
        sum += Number(m[3]);
      }
      return sum;
    },
    async setLimits(yaml) {
      const applied = (name: ReplicaName) =>
        (
          replica(name)
            .proc.stderr()
            .match(/ config applied/g) ?? []
        ).length;
      const before = { A: applied('A'), B: applied('B') };
      const file = path.join(work, `limits-${Date.now()}.yaml`);
      fs.writeFileSync(file, yaml);
      const r = await fleet.ctl('A', 'limits', 'set', '--file', file);
      expect(r.code, r.err).toBe(0);
      // one "config applied" line per worker (the one that took the write, the others from their settings poll)
      await within('the limits on every worker', 5000, () => applied('A') - before.A >= workers && applied('B') - before.B >= workers, 25);
    },
    async query(sql, values) {
      return (await pool.query(sql, values)).rows;
    },
    async close() {
      for (const name of ['A', 'B'] as const) {
        const r = running[name];
        if (!r) continue;
        forget(name);
        await r.proc.stop('SIGTERM');
      }
      await pool.end().catch(() => undefined);
      await db?.drop();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };

  try {
    await startReplica('A');
    // B gets the fleet's root the way an operator hands it over: the file, 0600, before B's first start
    fs.mkdirSync(dataDirs.B, { recursive: true, mode: 0o700 });
    fs.copyFileSync(path.join(dataDirs.A, 'root-ca.pem'), path.join(dataDirs.B, 'root-ca.pem'));
    fs.chmodSync(path.join(dataDirs.B, 'root-ca.pem'), 0o600);
    const startedB = startReplica('B');
    // the first admin: a token from the CLI on the shared store, then bootstrap over the network
    const t = tollgate(['token', 'create', '--spiffe-id', ADMIN_ID, '--config', configPath, '--data-dir', dataDirs.A, '--store', store, '--ttl', '5m']);
    expect(t.code, t.stderr).toBe(0);
    await bootstrap({ server: replica('A').control, token: t.stdout.trim(), fingerprint: fp, outDir: fleet.adminDir });
    const admin = {
      key: fs.readFileSync(path.join(fleet.adminDir, 'key.pem')),
      cert: fs.readFileSync(path.join(fleet.adminDir, 'cert.pem')),
      bundle: fs.readFileSync(path.join(fleet.adminDir, 'bundle.pem')),
    };
    adminCreds = grpc.credentials.createSsl(admin.bundle, admin.key, admin.cert);
    await startedB;
  } catch (e) {
    await fleet.close();
    throw e;
  }
  return fleet;
}

/** the processes whose parent is `pid` (a primary's workers) */
export function childPids(pid: number): number[] {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number);
}

/** Poll `check` every `everyMs` until it returns true; resolves with the time it took (ms), rejects after `timeoutMs`. */
export async function within(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean, everyMs = 10): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await check()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
