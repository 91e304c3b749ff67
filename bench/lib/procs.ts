/** Processes and load for the benchmarks: pinned children, their first JSON line, saturating mTLS load. */
import { connect, createServer } from 'node:net';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

/** A ~200-byte A2A message/send: the request every gateway benchmark sends. */
export const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'message/send',
  params: { message: { kind: 'message', role: 'user', messageId: '6f1e0b52-8f0c-4a55-9d7a-0c4b1d2e3f40', parts: [{ kind: 'text', text: 'benchmark hello' }] } },
});

/** Run `args` pinned to one core (taskset). */
export function pinned(core: number, args: string[]): ChildProcess {
  return spawn('taskset', ['-c', String(core), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** The child's first stdout line, as JSON ({"port": N}). */
export async function firstJsonLine(p: ChildProcess): Promise<{ port: number }> {
  const rl = createInterface({ input: p.stdout! });
  return new Promise((resolve, reject) => {
    p.once('exit', (code) => reject(new Error(`child exited with ${code} before listening`)));
    rl.once('line', (l) => resolve(JSON.parse(l) as { port: number }));
  });
}

export function stop(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null) {
      resolve();
      return;
    }
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 3000).unref();
  });
}

/** Saturating load: `connections` keep-alive mTLS connections POSTing BODY for `duration` s. */
export async function saturate(url: string, path: string, tls: { key: string; cert: string; ca: string }, connections: number, duration: number) {
  const r = await autocannon({
    url: url + path,
    method: 'POST',
    body: BODY,
    headers: { 'content-type': 'application/json' },
    connections,
    duration,
    tlsOptions: { ...tls, servername: 'localhost' },
  });
  return {
    requests: r['2xx'],
    errors: r.errors + r.non2xx + r.timeouts,
    /** what the errors were: connection errors, answers other than 2xx (by class), timeouts */
    errorDetail: `${r.errors} errors (${r.timeouts} timeouts), non-2xx: ${r['1xx'] + r['3xx']} 1xx/3xx, ${r['4xx']} 4xx, ${r['5xx']} 5xx`,
    reqPerSec: r['2xx'] / duration,
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port}`);
}

export function pidOf(name: string): number | undefined {
  try {
    const pid = Number(execFileSync('pgrep', ['-o', '-x', name], { encoding: 'utf8' }).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
