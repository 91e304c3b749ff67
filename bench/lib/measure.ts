import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Pool } from 'undici';

/** CPU time (utime + stime) of a process in microseconds, from /proc/<pid>/stat. */
const TICK_US = 1e6 / Number(safe(() => execFileSync('getconf', ['CLK_TCK']).toString().trim(), '100'));

function safe<T>(f: () => T, d: T): T {
  try {
    return f();
  } catch {
    return d;
  }
}

export function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields after "pid (comm) ": state is index 0, utime is field 14 overall -> index 11, stime -> 12
  return (Number(rest[11]) + Number(rest[12])) * TICK_US;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Open-loop, fixed-rate client: sends `total` requests at `rate` req/s regardless of how fast answers come
 * back (a closed loop would slow down with the server and hide queueing), timing each with hrtime.
 */
export async function fixedRateLatency(opts: {
  url: string;
  path: string;
  body: string;
  rate: number;
  total: number;
  tls: { key: string; cert: string; ca: string };
}): Promise<{ p50Us: number; p99Us: number; errors: number }> {
  const pool = new Pool(opts.url, { connections: 16, connect: { ...opts.tls, rejectUnauthorized: true, servername: 'localhost' } });
  const lat: number[] = [];
  let errors = 0;
  const intervalNs = BigInt(Math.round(1e9 / opts.rate));
  const start = process.hrtime.bigint();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < opts.total; i++) {
    const due = start + intervalNs * BigInt(i);
    let now = process.hrtime.bigint();
    while (now < due) {
      const waitMs = Number(due - now) / 1e6;
      if (waitMs > 1.5) await new Promise((r) => setTimeout(r, waitMs - 1));
      else await new Promise((r) => setImmediate(r));
      now = process.hrtime.bigint();
    }
    const t0 = process.hrtime.bigint();
    pending.push(
      pool
        .request({ method: 'POST', path: opts.path, headers: { 'content-type': 'application/json' }, body: opts.body })
        .then(async (r) => {
          await r.body.dump();
          if (r.statusCode !== 200) errors++;
          else lat.push(Number(process.hrtime.bigint() - t0) / 1000);
        })
        .catch(() => {
          errors++;
        }),
    );
  }
  await Promise.all(pending);
  await pool.close();
  // the first requests include connection setup: not what "added latency" means
  const steady = lat.slice(Math.min(50, Math.floor(lat.length / 10))).sort((a, b) => a - b);
  return { p50Us: percentile(steady, 50), p99Us: percentile(steady, 99), errors };
}
