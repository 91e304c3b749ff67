/** Running the built demo (dist/demo/run.js) as a user would; ensureBuilt (test/build.ts) builds it when stale. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { ROOT, ensureBuilt } from '../build.js';
import { canConnect } from '../../demo/gateway-process.js';

export { ROOT, ensureBuilt };
export const DEMO = path.join(ROOT, 'dist/demo/run.js');
export const CLI = path.join(ROOT, 'dist/cli/main.js');
export interface DemoRun {
  child: ChildProcessWithoutNullStreams;
  /** everything written to stdout so far */
  out(): string;
  err(): string;
  /** resolves when stdout contains `text` (rejects after `ms`) */
  waitFor(text: string | RegExp, ms: number): Promise<void>;
  exit: Promise<number | null>;
}

export function startDemo(args: string[] = [], env: NodeJS.ProcessEnv = {}): DemoRun {
  const child = spawn(process.execPath, [DEMO, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    for (const w of waiters) w();
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    out: () => out,
    err: () => err,
    exit,
    waitFor(text, ms) {
      const seen = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      return new Promise((resolve, reject) => {
        if (seen()) {
          resolve();
          return;
        }
        const timer = setTimeout(() => reject(new Error(`demo output never showed ${String(text)}; stdout:\n${out}\nstderr:\n${err}`)), ms);
        const check = () => {
          if (seen()) {
            clearTimeout(timer);
            resolve();
          }
        };
        waiters.push(check);
        void exit.then(() =>
          setTimeout(() => {
            if (!seen()) {
              clearTimeout(timer);
              reject(new Error(`demo exited before showing ${String(text)}; stdout:\n${out}\nstderr:\n${err}`));
            }
          }, 50),
        );
      });
    },
  };
}

/** Run to the end (SIGTERM after `ms`, so a hung demo cleans up instead of leaking a gateway). */
export async function runDemo(args: string[], ms: number, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startDemo(args, env);
  const timer = setTimeout(() => run.child.kill('SIGTERM'), ms);
  const code = await run.exit;
  clearTimeout(timer);
  return { code, stdout: run.out(), stderr: run.err() };
}

export const portOpen = canConnect;

/** The listeners and workspace the demo printed. */
export function printedPlaces(stdout: string): { workspace: string; proxy: number; control: number; metrics: number } {
  const workspace = /workspace: (\S+)/.exec(stdout)?.[1] ?? '';
  const m = /A2A proxy https:\/\/127\.0\.0\.1:(\d+)\/a2a\/<agent>, control \(gRPC\) 127\.0\.0\.1:(\d+), metrics http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
  return { workspace, proxy: Number(m?.[1]), control: Number(m?.[2]), metrics: Number(m?.[3]) };
}
