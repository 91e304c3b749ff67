/**
 * When something fails the demo says so in ONE line, exits non-zero and leaves nothing behind. The failure
 * is real: the CLI the demo drives (TOLLGATE_DEMO_CLI) is the real one, except that `serve` cannot start.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, ensureBuilt, runDemo } from './fixture.js';

let dir: string;
let fakeCli: string;

beforeAll(() => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-demo-fail-'));
  fakeCli = path.join(dir, 'cli.mjs');
  fs.writeFileSync(
    fakeCli,
    `import { run } from ${JSON.stringify(pathToFileURL(CLI).href)};
if (process.argv[2] === 'serve') {
  console.error('tollgate: cannot listen on 127.0.0.1:1: EACCES');
  process.exit(1);
}
process.exitCode = await run(process.argv.slice(2));
`,
  );
}, 200_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('demo failure', () => {
  it('a gateway that cannot start: one clear error line, exit 1, workspace removed', async () => {
    const r = await runDemo([], 60_000, { TOLLGATE_DEMO_CLI: fakeCli });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^demo failed: `tollgate serve` exited with code 1 while starting: tollgate: cannot listen on 127\.0\.0\.1:1: EACCES \(log: .*gateway\.log\)$/,
    );
    expect(r.stdout).toContain('starting the gateway (tollgate serve)');
    expect(r.stdout).toMatch(/failed \(\d+\.\d s\)/);
    const workspace = /workspace: (\S+)/.exec(r.stdout)?.[1];
    expect(workspace).toBeDefined();
    expect(fs.existsSync(workspace!)).toBe(false);
  });

  it('an unknown option: usage, exit 2, nothing started', async () => {
    const r = await runDemo(['--nope'], 10_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^demo: unknown option --nope/);
    expect(r.stdout).toBe('');
  });
});
