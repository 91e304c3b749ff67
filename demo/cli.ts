/**
 * The demo drives the gateway through the `tollgate` CLI, exactly as a user would: this runs one command.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DemoError } from './errors.js';

/**
 * This build's CLI: dist/cli/main.js next to dist/demo/ (or, when this module runs from source as in the
 * tests, the one in dist/). TOLLGATE_DEMO_CLI points the demo at another one.
 */
export function cliEntry(): string {
  if (process.env.TOLLGATE_DEMO_CLI) return process.env.TOLLGATE_DEMO_CLI;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const built = path.resolve(here, '../cli/main.js');
  return existsSync(built) ? built : path.resolve(here, '../dist/cli/main.js');
}

/** How to type a command in a shell, for the lines the demo prints. */
export function shellCommand(args: readonly string[]): string {
  return ['tollgate', ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export interface CliResult {
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cliEntry(), ...args], { timeout: opts.timeoutMs ?? 20_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const why = stderr.trim().split('\n').filter(Boolean).pop() ?? err.message;
        reject(new DemoError('cli', `\`${shellCommand(args.slice(0, 2))} …\` failed: ${why}`, { cause: err }));
        return;
      }
      resolve({ stdout, stderr });
    });
  });
}

/** Run one command and resolve with its exit status too (`tollgate audit verify` exits 1 when it finds tampering). */
export function runCliStatus(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CliResult & { code: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cliEntry(), ...args], { timeout: opts.timeoutMs ?? 20_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : undefined;
      if (code === undefined) {
        reject(new DemoError('cli', `\`${shellCommand(args.slice(0, 2))} …\` did not run: ${err?.message ?? 'unknown error'}`, { cause: err }));
        return;
      }
      resolve({ stdout, stderr, code });
    });
  });
}
