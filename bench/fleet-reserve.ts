/**
 * The fleet governance client alone: RedisGovernance.reserve + release, as the bench gateway calls them
 * (caller and edge buckets, a concurrency cap, a new root task per call), with `--inflight` calls in flight,
 * against a private redis-server pinned to core 1; this process pinned to core 0. Reports the client's CPU
 * per call (process.cpuUsage) and redis-server's (from /proc), in rounds, lowest and median. No TLS, no HTTP:
 * what the gateway's Redis path costs without the rest of a call around it, steady enough on a noisy
 * machine to compare two builds of the client (the gateway bench's paired figure moves by 2x there).
 *
 *   node dist/bench/fleet-reserve.js [--rounds 5] [--duration 3] [--inflight 32]
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RedisGovernance, type ReserveRequest } from '../governance/fleet/redis-governance.js';
import { cpuUs } from './lib/measure.js';
import { freePort, pinned, stop, waitForPort } from './lib/procs.js';

export interface FleetReserveResult {
  /** client CPU µs per reserve + release: lowest and median round */
  clientUs: { lowest: number; median: number };
  redisServerUs: { lowest: number; median: number };
  callsPerSec: number;
}

export async function runFleetReserveBench(o: { rounds?: number; durationSec?: number; inflight?: number; log?: (l: string) => void } = {}) {
  const rounds = o.rounds ?? 5;
  const duration = o.durationSec ?? 3;
  const inflight = o.inflight ?? 32;
  const log = o.log ?? (() => undefined);
  try {
    execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
  } catch {
    log('warning: taskset failed; running unpinned');
  }
  const port = await freePort();
  const server = pinned(1, ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  try {
    await waitForPort(port);
    // as gateway/fleet.ts opens it, with a generous commandTimeout: a loaded machine must not end the run
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 5000 });
    redis.on('error', () => undefined);
    await redis.connect();
    const g = new RedisGovernance({ redis, prefix: 'tgbench:' });
    // builds before the hot path had a connection of its own have no ready()
    await (g as { ready?: () => Promise<void> }).ready?.();
    const big = { rps: 1e7, burst: 1e7 };
    const req = (): ReserveRequest => ({
      callerId: 'spiffe://bench.local/agent/alice',
      callee: 'echo',
      perCaller: big,
      perEdge: big,
      maxConcurrentPerCallee: 4096,
      task: {
        rootTaskId: randomUUID(),
        isNew: true,
        parentCallId: undefined,
        budget: { maxCalls: 1e9, maxFanOut: 1e9, maxConcurrent: 1e6, maxCost: undefined },
        ttlMs: 360_000,
      },
    });
    const round = async (seconds: number) => {
      let calls = 0;
      const until = Date.now() + seconds * 1000;
      const c0 = process.cpuUsage();
      const r0 = cpuUs(server.pid!);
      await Promise.all(
        Array.from({ length: inflight }, async () => {
          while (Date.now() < until) {
            const r = await g.reserve(req());
            if (!r.ok) throw new Error(`refused: ${r.reason}`);
            g.release(r.lease);
            calls++;
          }
        }),
      );
      const c = process.cpuUsage(c0);
      return { client: (c.user + c.system) / calls, server: (cpuUs(server.pid!) - r0) / calls, perSec: calls / seconds };
    };
    await round(1); // warm-up
    const res: { client: number; server: number; perSec: number }[] = [];
    for (let i = 0; i < rounds; i++) {
      const r = await round(duration);
      res.push(r);
      log(`round ${i + 1}/${rounds}: client ${r.client.toFixed(2)} us per call, redis-server ${r.server.toFixed(2)} us, ${Math.round(r.perSec)} calls/s`);
    }
    g.close();
    redis.disconnect();
    const stat = (xs: number[]) => ({ lowest: Math.min(...xs), median: [...xs].sort((a, b) => a - b)[xs.length >> 1] });
    return {
      clientUs: stat(res.map((r) => r.client)),
      redisServerUs: stat(res.map((r) => r.server)),
      callsPerSec: Math.max(...res.map((r) => r.perSec)),
    } satisfies FleetReserveResult;
  } finally {
    await stop(server);
  }
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const r = await runFleetReserveBench({ rounds: arg('rounds'), durationSec: arg('duration'), inflight: arg('inflight'), log: (l) => console.error(l) });
  console.log(
    `reserve + release, client CPU per call: lowest ${r.clientUs.lowest.toFixed(2)} us, median ${r.clientUs.median.toFixed(2)} us; ` +
      `redis-server ${r.redisServerUs.lowest.toFixed(2)} / ${r.redisServerUs.median.toFixed(2)} us; ${Math.round(r.callsPerSec)} calls/s`,
  );
}
