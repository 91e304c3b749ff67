/**
 * `npm run demo -- --keep`: after the story everything stays up, the printed commands work against it, and
 * Ctrl-C (SIGINT) stops it all and removes the workspace.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { CLI, ensureBuilt, portOpen, printedPlaces, startDemo, type DemoRun } from './fixture.js';

const run$ = promisify(execFile);
let demo: DemoRun;

beforeAll(async () => {
  ensureBuilt();
  demo = startDemo(['--keep']);
  await demo.waitFor('Press Ctrl-C to stop everything and clean up.', 75_000);
}, 200_000);

afterAll(async () => {
  if (demo.child.exitCode === null) {
    demo.child.kill('SIGTERM');
    await demo.exit;
  }
});

/** The printed hint line that starts with `tollgate <words>` (and contains `also`), as CLI arguments. */
function hint(words: string, also = ''): string[] {
  const line = demo
    .out()
    .split('\n')
    .find((l) => l.trim().startsWith(`tollgate ${words}`) && l.includes(also));
  expect(line, demo.out()).toBeDefined();
  return line!.trim().split(/\s+/).slice(1);
}

describe('npm run demo -- --keep', () => {
  it('leaves the gateway running: the printed ctl and graph commands and the /ui page work', async () => {
    expect(demo.out()).toContain("alias tollgate='node ");
    const agents = await run$(process.execPath, [CLI, ...hint('ctl agents list')]);
    for (const name of ['orchestrator', 'researcher', 'writer', 'flaky', 'rogue']) expect(agents.stdout).toContain(`spiffe://tollgate.local/agent/${name}`);
    const table = await run$(process.execPath, [CLI, ...hint('graph --server')]);
    expect(table.stdout).toMatch(/orchestrator\s+researcher\s+\d+/);
    const dot = await run$(process.execPath, [CLI, ...hint('graph --server', '--task=')]);
    expect(dot.stdout).toMatch(/^digraph/m);
    expect(dot.stdout).toMatch(/flaky/);
    const ui = /live call graph: (http:\/\/\S+\/ui)/.exec(demo.out())?.[1];
    const page = await fetch(ui!);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
  });

  it('Ctrl-C stops everything, removes the workspace and exits 0', async () => {
    const places = printedPlaces(demo.out());
    expect(fs.existsSync(places.workspace)).toBe(true);
    demo.child.kill('SIGINT');
    expect(await demo.exit).toBe(0);
    expect(demo.out()).toContain('removing the workspace');
    expect(fs.existsSync(places.workspace)).toBe(false);
    for (const port of [places.proxy, places.control, places.metrics]) expect(await portOpen(port)).toBe(false);
  });
});
