/**
 * Running the real `tollgate` binary (dist/cli/main.js). The build (`npx tsc -p .`, ~15 s) runs only when
 * dist is older than the CLI's own sources, so `npm test` (which builds first) never rebuilds here; a lock
 * directory keeps parallel test files from building at the same time.
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = path.join(ROOT, 'dist/cli/main.js');
const SOURCES = ['cli', 'control', 'agent-bootstrap', 'proto'];
const LOCK = path.join(ROOT, 'dist', '.cli-test-build.lock');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|proto)$/.test(e.name) && !e.name.endsWith('.test.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  const built = fs.existsSync(MAIN) ? fs.statSync(MAIN).mtimeMs : 0;
  return built >= Math.max(...SOURCES.map((d) => newestSource(path.join(ROOT, d))));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function ensureBuilt(): void {
  if (isFresh()) return;
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() > deadline) fs.rmSync(LOCK, { recursive: true, force: true }); // stale lock
      sleepSync(200);
    }
  }
  try {
    if (isFresh()) return; // another test file built it while we waited
    // tsc emits even when files owned by others have type errors; only a missing main.js is fatal.
    try {
      execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'pipe' });
    } catch {
      /* type errors elsewhere */
    }
    if (!fs.existsSync(MAIN)) throw new Error('build failed: dist/cli/main.js missing');
    fs.utimesSync(MAIN, new Date(), new Date());
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tollgate(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Result {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** resolves with the first match of `re` in stdout+stderr */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function start(args: string[], opts: { cwd?: string } = {}): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd ?? ROOT, stdio: 'pipe' });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  child.stdout.on('data', (d) => ((out += d), poke()));
  child.stderr.on('data', (d) => ((err += d), poke()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (poke(), resolve(code))));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(re, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${out}\n${err}`)), timeoutMs);
        const check = () => {
          const m = (out + err).match(re);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`process exited (${child.exitCode}) before ${re}:\n${out}\n${err}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
