/**
 * `tollgate … | head`: the reader closes the pipe early. Node ignores SIGPIPE, so the CLI's next write fails
 * with EPIPE; the CLI must then stop quietly with status 0 (no stack trace), whatever the command.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, MAIN, ROOT } from './run.js';
import { ADMIN_ID, startGateway, tempDir, type Gateway } from '../admin/harness.js';

let gw: Gateway;
let adminDir: string;
const dirs: string[] = [];

beforeAll(async () => {
  ensureBuilt();
  gw = await startGateway();
  adminDir = tempDir('tollgate-epipe-admin-');
  dirs.push(adminDir, gw.dataDir);
  await gw.enroll(ADMIN_ID, adminDir);
}, 120_000);

afterAll(async () => {
  await gw?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * Run the CLI with its stdout read by a reader that keeps `lines` lines and then closes the pipe (0: closes
 * it before the CLI writes anything). `meanwhile` runs every 100 ms until the CLI exits (to make it write).
 */
function runIntoClosingReader(
  args: string[],
  lines: number,
  meanwhile?: () => void,
): Promise<{ code: number | null; signal: string | null; stderr: string; kept: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let kept = '';
  child.stderr.on('data', (d: Buffer | string) => (stderr += d.toString()));
  if (lines === 0) child.stdout.destroy();
  else
    child.stdout.on('data', (d: Buffer) => {
      kept += d.toString();
      if (kept.split('\n').length > lines) {
        kept = kept.split('\n').slice(0, lines).join('\n');
        child.stdout.destroy();
      }
    });
  const tick = meanwhile ? setInterval(meanwhile, 100) : undefined;
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tollgate ${args.join(' ')} still running after 20 s; stderr: ${stderr}`));
    }, 20_000);
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      clearInterval(tick);
      resolve({ code, signal, stderr, kept });
    });
  });
}

describe('tollgate output into a pipe closed early', () => {
  const ctl = (...args: string[]) => ['ctl', ...args, '--server', gw.target, '--cert-dir', adminDir];

  it('help, ca init and one-shot ctl commands exit 0, with no error on stderr', async () => {
    const dataDir = tempDir('tollgate-epipe-ca-');
    dirs.push(dataDir);
    for (const args of [
      ['--help'],
      ['ctl', '--help'],
      ['ca', 'init', '--data-dir', dataDir, '--trust-domain', 'epipe.test'],
      ctl('agents', 'list'),
      ctl('certs', 'list', '--json'),
      ctl('graph', '--dot'),
    ]) {
      const r = await runIntoClosingReader(args, 0);
      expect({ args: args.slice(0, 3), code: r.code, signal: r.signal }).toEqual({ args: args.slice(0, 3), code: 0, signal: null });
      // stderr is for people (ca init says where the CA is); nothing about the pipe, no stack trace
      expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    }
    expect(fs.readdirSync(dataDir).length).toBeGreaterThan(0); // ca init did its work
  });

  it('`ctl watch | head -1` stops at the first event after the reader left, status 0, nothing on stderr', async () => {
    let n = 0;
    const r = await runIntoClosingReader(ctl('watch'), 1, () => {
      if (n < 200) gw.events.publish({ time: Date.now(), kind: 'config', actor: 'test', summary: `event ${n++}` });
    });
    expect(r.kept).toMatch(/config\s+test\s+event \d+/);
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  });
});
