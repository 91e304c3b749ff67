// The live call-graph page in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
// the real metrics listener serves the page, the data comes from a real delegation stage (call graph, task
// trees, agent windows) and updates arrive over server-sent events.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, requireChromium } from './browser.js';
import { createMetrics } from '../../proxy/metrics.js';
import { startMetricsServer } from '../../proxy/metrics-server.js';
import { createGraphPage, type GraphPage } from '../../ui/server.js';
import { createGraphRoutes } from '../../ui/graph-routes.js';
import { ID, makeFixture, type Fixture } from './fixture.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Drawn {
  id: string;
  classes: string[];
  label: string;
  source?: string;
  target?: string;
  width?: number;
  color?: string;
}
interface TollgateHandle {
  state: { snapshots: number; details: number };
  clipped(): string[];
  position(id: string): { x: number; y: number };
  nodes(): Drawn[];
  edges(): Drawn[];
  taskNodes(): Drawn[];
  taskEdges(): Drawn[];
}
declare global {
  interface Window {
    __tollgate: TollgateHandle;
    __notReloaded?: boolean;
  }
}

let f: Fixture;
let ui: GraphPage;
let server: { port: number; close(): Promise<void> };
let context: BrowserContext;
let page: Page;
let profile: string;
let loopRoot: string;
const requests: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  requireChromium();
  f = makeFixture();
  // normal traffic: bob's tasks through the orchestrator to the writer
  for (let i = 0; i < 6; i++) {
    const c1 = f.call('bob', 'orchestrator');
    const c2 = f.call('orchestrator', 'writer', c1.token);
    f.answer(c2, 200, 0.1);
    f.answer(c1);
  }
  // the all-night loop, cut at the first revisit
  loopRoot = f.loopTask();
  // a researcher that drops the delegation header calls the orchestrator as a fresh task: a live ring
  f.answer(f.call('researcher', 'orchestrator'));
  // alice's calls to the writer fail upstream (nothing listens: the gateway answered 502)
  for (let i = 0; i < 2; i++) f.fail(f.call('alice', 'writer'), 502, 'refused');
  // agent c is not allowed to call the writer: refused by policy before delegation, three times
  for (let i = 0; i < 3; i++) f.deny('c', 'writer', 403, 'no_rule');

  ui = createGraphPage({ source: f.source, loopbackOnly: true, refreshMs: 0 });
  // as the gateway mounts them: the page, and the /graph routes its details and ranges come from
  const routes = { ...ui.routes, ...createGraphRoutes({ graph: f.stage.graph, access: { loopbackOnly: true }, now: Date.now }) };
  server = await startMetricsServer({ listen: '127.0.0.1:0', metrics: createMetrics({ processMetrics: false }), routes });
  profile = mkdtempSync(path.join(os.tmpdir(), 'tollgate-ui-chromium-'));
  context = await launchChromium(profile);
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
});

afterAll(async () => {
  await context?.close();
  ui?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const edgeId = (from: keyof typeof ID, to: keyof typeof ID) => `${ID[from]} -> ${ID[to]}`;

describe('live call-graph page in headless Chromium', () => {
  it('draws the agents, the cycle and the refused loop edge, and the budget table', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    await page.goto(`${base}/ui`);
    await page.waitForFunction(() => window.__tollgate?.state.snapshots > 0 && window.__tollgate.nodes().length >= 6);
    const nodes = await page.evaluate(() => window.__tollgate.nodes());
    expect(nodes.map((n) => n.id).sort()).toEqual([ID.alice, ID.bob, ID.c, ID.orchestrator, ID.researcher, ID.writer].sort());
    const byId = new Map(nodes.map((n) => [n.id, n]));
    expect(byId.get(ID.orchestrator)!.classes).toContain('cycle');
    expect(byId.get(ID.researcher)!.classes).toContain('cycle');
    expect(byId.get(ID.writer)!.classes).not.toContain('cycle');
    // node badge: calls this minute against the agent's window limit
    expect(byId.get(ID.orchestrator)!.label).toMatch(/^orchestrator\n7\/30 per min$/);

    const edges = new Map((await page.evaluate(() => window.__tollgate.edges())).map((e) => [e.id, e]));
    const loopEdge = edges.get(edgeId('researcher', 'orchestrator'))!;
    expect(loopEdge.classes).toEqual(expect.arrayContaining(['cycle', 'refused']));
    // rates people can read (per minute below 1/s), and why it was refused
    expect(loopEdge.label).toBe('1 call · 0.2/min\n1 refused (loop 1)');
    expect(edges.get(edgeId('orchestrator', 'researcher'))!.classes).toContain('cycle');
    const normal = edges.get(edgeId('orchestrator', 'writer'))!;
    expect(normal.classes).toEqual(['health-ok']);
    expect(normal.label).toBe('6 calls · 1.2/min');
    // thickness follows the rate: 6 calls vs 1
    expect(normal.width!).toBeGreaterThan(edges.get(edgeId('orchestrator', 'researcher'))!.width!);

    await expect(page.locator('#budgets tr[data-agent="orchestrator"] td').nth(1).textContent()).resolves.toBe('7 / 30');
    await expect(page.locator('#budgets tr[data-agent="orchestrator"] td').nth(4).textContent()).resolves.toBe('0.85 / 5');
    await expect(page.locator(`#tasks li[data-task-id="${loopRoot}"]`).getAttribute('data-loops')).resolves.toBe('1');
    // the live ring and the cut loop, each called what it is
    await expect(page.locator('#window').textContent()).resolves.toBe('last 5 min · 1 live cycle: orchestrator → researcher → orchestrator · 1 loop cut');
    // an upstream failure is orange, a refused-only edge red and dashed, and no label is cut off at the border
    const failing = edges.get(edgeId('alice', 'writer'))!;
    expect(failing.classes).toEqual(expect.arrayContaining(['errors', 'failing', 'health-bad']));
    expect(failing.label).toBe('2 calls · 0.4/min\n2 failed (refused 2)');
    expect(failing.color).toBe('rgb(224,112,0)');
    const denied = edges.get(edgeId('c', 'writer'))!;
    expect(denied.classes).toEqual(expect.arrayContaining(['refused', 'mostly-refused', 'health-bad']));
    expect(denied.color).toBe('rgb(214,40,40)');
    expect(denied.width!).toBeGreaterThan(3);
    expect(byId.get(ID.writer)!.classes).toContain('health-bad');
    expect(byId.get(ID.writer)!.label).toBe('writer\n25% failed');
    expect(byId.get(ID.c)!.label).toBe('c\n100% refused');
    expect(await page.evaluate(() => window.__tollgate.clipped())).toEqual([]);
  });

  it('shows an edge pushed after load without reloading (SSE)', async () => {
    await page.evaluate(() => (window.__notReloaded = true));
    const before = await page.evaluate(() => window.__tollgate.state.snapshots);
    expect((await page.evaluate(() => window.__tollgate.edges())).some((e) => e.id === edgeId('bob', 'researcher'))).toBe(false);
    f.answer(f.call('bob', 'researcher'));
    await page.waitForFunction((id) => window.__tollgate.edges().some((e) => e.id === id), edgeId('bob', 'researcher'));
    expect(await page.evaluate(() => window.__notReloaded)).toBe(true);
    expect(await page.evaluate(() => window.__tollgate.state.snapshots)).toBeGreaterThan(before);
  });

  it('draws the looping task as a layered tree: initiator marked, the closing edge marked as the loop cut', async () => {
    await page.locator(`#tasks li[data-task-id="${loopRoot}"]`).click();
    await page.waitForFunction(() => window.__tollgate.taskEdges().some((e) => e.classes.includes('loop-cut')));
    const nodes = await page.evaluate(() => window.__tollgate.taskNodes());
    const edges = await page.evaluate(() => window.__tollgate.taskEdges());
    const initiator = nodes.find((n) => n.classes.includes('initiator'))!;
    expect(initiator.label).toBe('initiator\nalice');
    expect(edges).toHaveLength(3);
    const cut = edges.filter((e) => e.classes.includes('loop-cut'));
    expect(cut).toHaveLength(1);
    expect(cut[0].classes).toContain('refused');
    expect(cut[0].label).toBe('loop cut (508)');
    const label = (id: string | undefined) => nodes.find((n) => n.id === id)!.label;
    expect(label(cut[0].source)).toBe('researcher');
    expect(label(cut[0].target)).toBe('orchestrator\n✕ loop');
    // the chain: initiator -> orchestrator -> researcher -> (cut) orchestrator
    const first = edges.find((e) => e.source === 'initiator')!;
    expect(label(first.target)).toBe('orchestrator');
    const second = edges.find((e) => e.source === first.target)!;
    expect(second.target).toBe(cut[0].source);
    // layered, left to right: each hop is drawn right of its caller
    const x = await page.evaluate(() =>
      Object.fromEntries(
        window.__tollgate
          .taskNodes()
          .map((n) => [
            n.id,
            (window.__tollgate as unknown as { taskGraph: { getElementById(id: string): { position(): { x: number } } } }).taskGraph
              .getElementById(n.id)
              .position().x,
          ]),
      ),
    );
    expect(x[first.target!]).toBeGreaterThan(x.initiator);
    expect(x[second.target!]).toBeGreaterThan(x[first.target!]);
    expect(x[cut[0].target!]).toBeGreaterThan(x[second.target!]);
    await expect(page.locator('#task-info').textContent()).resolves.toContain(
      'loop cut: researcher → orchestrator closed orchestrator → researcher → orchestrator',
    );

    // the picture shows a clicked agent's details too: the writer, whose calls from alice fail upstream
    const before = await page.evaluate(() => window.__tollgate.state.details);
    const at = await page.evaluate((id) => window.__tollgate.position(id), ID.writer);
    await page.mouse.click(at.x, at.y);
    await page.waitForFunction((n) => window.__tollgate.state.details > n, before);
    await expect(page.locator('[data-k="errors-by-kind"]').textContent()).resolves.toBe('failed: refused 2');

    // test-output/ is gitignored; docs/graph-page.png (the README's picture) only with UPDATE_DOCS_SCREENSHOT=1,
    // so a test run never dirties the work tree
    mkdirSync(path.join(ROOT, 'test-output'), { recursive: true });
    const png = await page.screenshot({ path: path.join(ROOT, 'test-output/graph-page.png'), fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') await page.screenshot({ path: path.join(ROOT, 'docs/graph-page.png'), fullPage: true });
    expect(png.length).toBeGreaterThan(10_000);
  });

  it('loaded everything from the gateway itself, without script errors', () => {
    const base = `http://127.0.0.1:${server.port}/`;
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.filter((u) => !u.startsWith(base))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
