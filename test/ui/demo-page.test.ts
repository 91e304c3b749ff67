/**
 * The live page against the real thing: `npm run demo -- --keep` (a real gateway with real A2A agents)
 * while its traffic runs, in headless Chromium. The agents' nodes and the highlighted loop edge
 * (flaky -> orchestrator, refused with 508) must appear, pushed over SSE.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, requireChromium } from './browser.js';
import { ensureBuilt, startDemo, type DemoRun, ROOT } from '../demo/fixture.js';

interface Drawn {
  id: string;
  classes: string[];
  source?: string;
  target?: string;
}

let demo: DemoRun;
let context: BrowserContext | undefined;
let profile = '';

beforeAll(async () => {
  requireChromium();
  ensureBuilt();
  demo = startDemo(['--keep']);
  profile = mkdtempSync(path.join(os.tmpdir(), 'tollgate-ui-demo-'));
  context = await launchChromium(profile);
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (demo && demo.child.exitCode === null) {
    demo.child.kill('SIGTERM');
    await demo.exit;
  }
});

describe('the live call-graph page during `npm run demo`', () => {
  it('draws the agents and highlights the loop edge as the demo traffic arrives', async () => {
    // open the page as soon as the gateway is up, before the story reaches the loop
    // the setup prints the gateway's addresses before the story starts
    await demo.waitFor('metrics http', 90_000);
    const metrics = /metrics (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.out())?.[1];
    const url = metrics ? `${metrics}/ui` : undefined;
    expect(url, demo.out()).toBeDefined();
    const page = context!.pages()[0] ?? (await context!.newPage());
    page.setDefaultTimeout(60_000);
    await page.goto(url!);
    await page.waitForFunction(() => (window as unknown as { __tollgate?: unknown }).__tollgate !== undefined);

    const loopEdge = await page.waitForFunction(
      () => {
        const t = (window as unknown as { __tollgate: { edges(): Drawn[] } }).__tollgate;
        return (
          t.edges().find((e) => e.source === 'spiffe://tollgate.local/agent/flaky' || e.id.includes('flaky')) &&
          t.edges().find((e) => e.classes.includes('refused') && (e.id.includes('flaky') || e.source?.includes('flaky')))
        );
      },
      undefined,
      { timeout: 90_000 },
    );
    const edge = (await loopEdge.jsonValue()) as Drawn;
    expect(edge.classes).toContain('refused');

    // the task panel shows the loop's tree at a readable size after the page drew the demo's other tasks
    await page.waitForFunction(() =>
      (window as unknown as { __tollgate: { taskEdges(): Drawn[] } }).__tollgate.taskEdges().some((e) => e.classes.includes('loop-cut')),
    );
    const zoom = await page.evaluate(() => (window as unknown as { __tollgate: { taskGraph: { zoom(): number } } }).__tollgate.taskGraph.zoom());
    expect(zoom).toBeGreaterThan(0.6);
    const nodes = await page.evaluate(() => (window as unknown as { __tollgate: { nodes(): Drawn[] } }).__tollgate.nodes().map((n) => n.id));
    for (const name of ['orchestrator', 'researcher', 'writer', 'flaky']) expect(nodes.join(' ')).toContain(name);
    mkdirSync(path.join(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-output/graph-page-demo.png'), fullPage: true });
  });
});
