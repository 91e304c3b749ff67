/** Running the real `tollgate` binary (dist/cli/main.js); ensureBuilt (test/build.ts) builds it when stale. */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { ROOT, ensureBuilt } from '../build.js';

export { ROOT, ensureBuilt };
export const MAIN = path.join(ROOT, 'dist/cli/main.js');

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

/** `fileLimit`: run under `ulimit -n` (through sh, which then execs node: the child is the node process). */
export function start(args: string[], opts: { cwd?: string; fileLimit?: number } = {}): Running {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const child =
    opts.fileLimit === undefined
      ? spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd ?? ROOT, stdio: 'pipe' })
      : spawn('sh', ['-c', `ulimit -n ${opts.fileLimit} && exec ${[process.execPath, MAIN, ...args].map(quote).join(' ')}`], {
          cwd: opts.cwd ?? ROOT,
          stdio: 'pipe',
        });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  child.stdout.on('data', (d: Buffer | string) => {
    out += d.toString();
    poke();
  });
  child.stderr.on('data', (d: Buffer | string) => {
    err += d.toString();
    poke();
  });
  // 'close', not 'exit': 'close' comes after the child's stdout and stderr are drained, so the last line it
  // wrote before exiting (e.g. "stopped") is already in `err` when stop() resolves
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      poke();
      resolve(code);
    }),
  );
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
