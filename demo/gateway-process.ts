/**
 * `tollgate serve` as a child process: started with the demo's config and data dir, ready when its three
 * listeners answer, stopped with SIGTERM (SIGKILL if it does not go). Its output goes to a log file in the
 * demo's directory; the last lines are kept to explain a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import net from 'node:net';
import { cliEntry } from './cli.js';
import { DemoError } from './errors.js';

export interface GatewayProcessOptions {
  configPath: string;
  dataDir: string;
  logPath: string;
  ports: { proxy: number; control: number; metrics: number };
  readyTimeoutMs?: number;
}

export interface GatewayProcess {
  readonly pid: number;
  /** resolves when all three listeners answer; rejects (after stopping it) if it exits or times out first */
  readonly ready: Promise<void>;
  /** the root fingerprint serve printed, if it did */
  fingerprint(): string | undefined;
  /** resolves once; SIGTERM, then SIGKILL after `graceMs` */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now if it is still running (for a process 'exit' handler) */
  killNow(): void;
  /** last lines of its output */
  tail(n?: number): string[];
  /** the exit, if it exits on its own */
  readonly exited: Promise<number | null>;
}

/** Is something listening on 127.0.0.1:port? */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function metricsUp(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Spawn `tollgate serve` and return at once, so the caller can register the stop before waiting for
 * `ready` (an interruption while it starts must not leave it running).
 */
export function spawnGateway(opts: GatewayProcessOptions): GatewayProcess {
  const log: WriteStream = createWriteStream(opts.logPath, { flags: 'a' });
  const lines: string[] = [];
  let fp: string | undefined;
  const child: ChildProcess = spawn(process.execPath, [cliEntry(), 'serve', '--config', opts.configPath, '--data-dir', opts.dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    for (const l of chunk.toString('utf8').split('\n')) {
      if (l.trim() === '') continue;
      lines.push(l);
      if (lines.length > 50) lines.shift();
      const m = /\broot\b.*?(sha256:[0-9a-f]{64})/.exec(l);
      if (m) fp = m[1];
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => {
    exitCode = c;
    log.end();
  });

  let stopping: Promise<void> | undefined;
  const handle: Omit<GatewayProcess, 'ready'> = {
    pid: child.pid ?? -1,
    fingerprint: () => fp,
    tail: (n = 5) => lines.slice(-n),
    exited,
    killNow() {
      if (exitCode === undefined) child.kill('SIGKILL');
    },
    stop(graceMs = 5000) {
      stopping ??= (async () => {
        if (exitCode !== undefined) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };

  const ready = waitReady(handle, opts, () => exitCode, lines);
  ready.catch(() => undefined); // the caller awaits it; never an unhandled rejection meanwhile
  return { ...handle, ready };
}

async function waitReady(
  handle: Omit<GatewayProcess, 'ready'>,
  opts: GatewayProcessOptions,
  exitCode: () => number | null | undefined,
  lines: string[],
): Promise<void> {
  const why = (what: string) => {
    const last = lines[lines.length - 1];
    return `${what}${last ? `: ${last.replace(/^\S+Z (info|warn|error) /, '')}` : ''} (log: ${opts.logPath})`;
  };

  // Ready = every listener answers. Poll: serve prints nothing machine-readable about the proxy or metrics.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  const pending = new Map<string, () => Promise<boolean>>([
    ['control', () => canConnect(opts.ports.control)],
    ['proxy', () => canConnect(opts.ports.proxy)],
    ['metrics', () => metricsUp(opts.ports.metrics)],
  ]);
  while (pending.size > 0) {
    if (exitCode() !== undefined)
      throw new DemoError('gateway', why(`\`tollgate serve\` exited with code ${exitCode() ?? '(killed by a signal)'} while starting`));
    for (const [name, check] of pending) if (await check()) pending.delete(name);
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      await handle.stop(1000);
      const names = [...pending.keys()].map((n) => `${n} (127.0.0.1:${opts.ports[n as 'proxy']})`).join(', ');
      throw new DemoError('gateway', why(`\`tollgate serve\` did not open its ${names} listener${pending.size > 1 ? 's' : ''} in time`));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Spawn and wait until ready (stopped again if it never gets there). */
export async function startGatewayProcess(opts: GatewayProcessOptions): Promise<GatewayProcess> {
  const g = spawnGateway(opts);
  await g.ready;
  return g;
}
