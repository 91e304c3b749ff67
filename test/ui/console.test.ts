/**
 * The live page as an operator's console, in headless Chromium, on live traffic through the gateway as
 * `tollgate serve` composes it (gateway/tollgate.ts, real mTLS listeners, real upstream agents, real refusals,
 * an agent whose address answers nothing): health colours, a cut loop that is not called a live cycle, readable
 * rates, labels inside the canvas, details of a clicked agent and edge (rates, p50/p99, refusals by reason,
 * failures by kind, recent calls), a time range, and a task found by its id.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, requireChromium } from './browser.js';
import { baseConfig, id, startE2e, type E2e } from '../e2e/harness.js';
import { handlers, startStandInUpstream, type StandInUpstream } from '../fakes/upstream.js';
import { messageSend, mtlsClient, type MtlsClient } from '../fakes/mtls-client.js';
import { freePort } from '../fakes/wait.js';

interface Drawn {
  id: string;
  classes: string[];
  label: string;
  source?: string;
  target?: string;
  width?: number;
  color?: string;
}
interface Console {
  state: { snapshots: number; details: number; rangeMs: number | null; drawn: { rangeMs: number } | null };
  nodes(): Drawn[];
  edges(): Drawn[];
  taskEdges(): Drawn[];
  taskNodes(): Drawn[];
  clipped(): string[];
  position(id: string): { x: number; y: number };
}
/** the page's handle; written out in each page.evaluate callback, which runs in the browser (no closures) */
type Win = { __tollgate: Console };

let e: E2e;
const upstreams: StandInUpstream[] = [];
const clients: Record<string, MtlsClient> = {};
let context: BrowserContext;
let page: Page;
let profile = '';
let loopRoot = '';
const pageErrors: string[] = [];

async function call(from: string, to: string, delegation?: string) {
  const init = messageSend(1);
  if (delegation) (init.headers as Record<string, string>)['tollgate-delegation'] = delegation;
  const res = await clients[from].fetch(`${e.proxyUrl}/a2a/${to}/`, init);
  const body = (await res.json()) as { error?: { data?: { rootTaskId?: string } } };
  return { status: res.status, body };
}

beforeAll(async () => {
  requireChromium();
  const deadPort = await freePort(); // nothing listens there: connection refused, the gateway answers 502
  e = await startE2e(baseConfig());
  const up: Record<string, StandInUpstream> = {};
  for (const name of ['orchestrator', 'researcher']) {
    const m = await e.enroll(id(`agent/${name}`));
    up[name] = await startStandInUpstream({ ...m, handler: handlers.slow(15) });
    upstreams.push(up[name]);
    clients[name] = mtlsClient(m, m.bundlePem);
  }
  for (const who of ['user/alice', 'user/rogue']) {
    const m = await e.enroll(id(who));
    clients[who.split('/')[1]] = mtlsClient(m, m.bundlePem);
  }
  fs.appendFileSync(
    e.configPath,
    `agents:
  orchestrator: { url: ${up.orchestrator.url}, id: ${id('agent/orchestrator')} }
  researcher: { url: ${up.researcher.url}, id: ${id('agent/researcher')} }
  writer: { url: "https://127.0.0.1:${deadPort}", id: ${id('agent/writer')} }
policy:
  - { from: ${id('user/alice')}, to: [orchestrator, researcher, writer] }
  - { from: ${id('agent/orchestrator')}, to: [researcher] }
  - { from: ${id('agent/researcher')}, to: [orchestrator] }
`,
  );
  await e.tg.reload();

  // traffic before the page opens: ordinary calls, a loop cut at its first revisit, failures, refusals
  for (let i = 0; i < 3; i++) expect((await call('alice', 'orchestrator')).status).toBe(200);
  expect((await call('alice', 'orchestrator')).status).toBe(200);
  const toOrchestrator = up.orchestrator.requests.at(-1)!.headers['tollgate-delegation'] as string;
  expect((await call('orchestrator', 'researcher', toOrchestrator)).status).toBe(200);
  const back = await call('researcher', 'orchestrator', up.researcher.requests.at(-1)!.headers['tollgate-delegation'] as string);
  expect(back.status).toBe(508);
  loopRoot = back.body.error!.data!.rootTaskId!;
  for (let i = 0; i < 2; i++) expect((await call('alice', 'writer')).status).toBe(502);
  for (let i = 0; i < 3; i++) expect((await call('rogue', 'writer')).status).toBe(403);

  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-ui-console-'));
  context = await launchChromium(profile);
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(`${e.metricsUrl}/ui`);
  await page.waitForFunction(() => (window as unknown as { __tollgate?: Console }).__tollgate?.edges().length === 5);
}, 90_000);

afterAll(async () => {
  await context?.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  for (const c of Object.values(clients)) await c.close();
  for (const u of upstreams) await u.close();
  await e?.close();
});

const W = id('agent/writer');
const edge = (from: string, to: string) => `${id(from)} -> ${id(to)}`;

describe('the live console on real traffic', () => {
  it('colours agents and edges by health; a cut loop is not a live cycle; rates are readable; nothing is clipped', async () => {
    await expect(page.locator('#window').textContent()).resolves.toBe('last 5 min · no live cycle · 1 loop cut');
    const edges = new Map((await page.evaluate(() => (window as unknown as Win).__tollgate.edges())).map((d) => [d.id, d]));
    const failing = edges.get(edge('user/alice', 'agent/writer'))!;
    expect(failing.classes).toEqual(expect.arrayContaining(['failing', 'health-bad']));
    expect(failing.label).toBe('2 calls · 0.4/min\n2 failed (refused 2)');
    const denied = edges.get(edge('user/rogue', 'agent/writer'))!;
    expect(denied.classes).toEqual(expect.arrayContaining(['mostly-refused', 'health-bad']));
    expect(denied.label).toBe('3 refused (no_rule 3)');
    expect(denied.color).toBe('rgb(214,40,40)');
    const loop = edges.get(edge('agent/researcher', 'agent/orchestrator'))!;
    expect(loop.label).toBe('1 refused (loop 1)');
    expect(edges.get(edge('user/alice', 'agent/orchestrator'))!.label).toBe('4 calls · 0.8/min');
    const nodes = new Map((await page.evaluate(() => (window as unknown as Win).__tollgate.nodes())).map((d) => [d.id, d]));
    expect(nodes.get(W)!.classes).toContain('health-bad');
    expect(nodes.get(W)!.label).toBe('writer\n100% failed');
    expect(nodes.get(id('agent/orchestrator'))!.classes).toContain('health-ok');
    expect(await page.evaluate(() => (window as unknown as Win).__tollgate.clipped())).toEqual([]);
  });

  it('a click on an agent shows its rates, latency, failures by kind and recent calls (refusals included)', async () => {
    const before = await page.evaluate(() => (window as unknown as Win).__tollgate.state.details);
    const at = await page.evaluate((w) => (window as unknown as Win).__tollgate.position(w), W);
    await page.mouse.click(at.x, at.y);
    await page.waitForFunction((n) => (window as unknown as Win).__tollgate.state.details > n, before);
    await expect(page.locator('#detail-title').textContent()).resolves.toBe('agent writer · last 5 min');
    const calls = page.locator('table[data-block="calls to writer"]');
    await expect(calls.locator('tr[data-k="failed"] td').nth(1).textContent()).resolves.toBe('2 (100%)');
    await expect(calls.locator('tr[data-k="refused"] td').nth(1).textContent()).resolves.toBe('3 (60%)');
    await expect(page.locator('[data-k="errors-by-kind"]').textContent()).resolves.toBe('failed: refused 2');
    await expect(page.locator('[data-k="refusals-by-reason"]').textContent()).resolves.toBe('refused: no_rule 3');
    const rows = page.locator('#detail-recent tbody tr');
    await expect(rows.count()).resolves.toBe(5);
    await expect(page.locator('#detail-recent tr[data-outcome="error"] td').nth(2).textContent()).resolves.toBe('502 refused');
    await expect(page.locator('#detail-recent tr[data-outcome="refused"] td').nth(2).textContent()).resolves.toBe('403 no_rule');
  });

  it('a click on an edge shows its p50/p99', async () => {
    const before = await page.evaluate(() => (window as unknown as Win).__tollgate.state.details);
    const at = await page.evaluate((eid) => (window as unknown as Win).__tollgate.position(eid), edge('user/alice', 'agent/orchestrator'));
    await page.mouse.click(at.x, at.y);
    await page.waitForFunction((n) => (window as unknown as Win).__tollgate.state.details > n, before);
    await expect(page.locator('#detail-title').textContent()).resolves.toBe('alice → orchestrator · last 5 min');
    const latency = await page.locator('tr[data-k="latency p50 / p99"] td').nth(1).textContent();
    // the orchestrator answers after 15 ms: both percentiles are at least that, read from a histogram
    const [p50, p99] = /^(\d+) ms \/ (\d+) ms$/.exec(latency!)!.slice(1).map(Number);
    expect(p50).toBeGreaterThanOrEqual(13);
    expect(p99).toBeGreaterThanOrEqual(p50);
    await expect(page.locator('#detail-recent tbody tr[data-outcome="ok"]').count()).resolves.toBe(4);
  });

  it('follows live traffic without reloading; a shorter range comes from /graph?range=', async () => {
    expect((await call('alice', 'researcher')).status).toBe(200);
    await page.waitForFunction((eid) => (window as unknown as Win).__tollgate.edges().some((d) => d.id === eid), edge('user/alice', 'agent/researcher'));
    await page.selectOption('#range', '60000');
    await page.waitForFunction(() => (window as unknown as Win).__tollgate.state.drawn?.rangeMs === 60_000);
    await expect(page.locator('#window').textContent()).resolves.toMatch(/^last 1 min · /);
    // the rate over one minute: 1 call
    const label = await page.evaluate(
      (eid) => (window as unknown as Win).__tollgate.edges().find((d) => d.id === eid)!.label,
      edge('user/alice', 'agent/researcher'),
    );
    expect(label).toBe('1 call · 1/min');
    await page.selectOption('#range', '');
    await page.waitForFunction(() => (window as unknown as Win).__tollgate.state.drawn?.rangeMs === 300_000);
  });

  it('finds a task by its id: the loop cut, then a failed call with its status and why', async () => {
    await page.fill('#task-search', loopRoot);
    await page.press('#task-search', 'Enter');
    await page.waitForFunction(() => (window as unknown as Win).__tollgate.taskEdges().some((d) => d.classes.includes('loop-cut')));
    await expect(page.locator('#task-title').textContent()).resolves.toBe(loopRoot);

    const failedTask = ((await (await fetch(`${e.metricsUrl}/graph`)).json()) as { recentTasks: { rootTaskId: string; errors: number }[] }).recentTasks.find(
      (t) => t.errors === 1,
    )!.rootTaskId;
    await page.fill('#task-search', `  ${failedTask} `);
    await page.press('#task-search', 'Enter');
    await page.waitForFunction(() => (window as unknown as Win).__tollgate.taskEdges().some((d) => d.classes.includes('failing')));
    const [failed] = await page.evaluate(() => (window as unknown as Win).__tollgate.taskEdges());
    expect(failed.label).toBe('SendMessage · 502 refused');
    await expect(page.locator('#task-info').textContent()).resolves.toContain(
      "failed: alice → writer 502 refused: nothing answers at the agent's address (connection refused)",
    );
    await page.fill('#task-search', 'no-such-task');
    await page.press('#task-search', 'Enter');
    await page.waitForFunction(() => document.getElementById('task-info')!.textContent.includes('no recent task no-such-task'));
  });

  it('ran without script errors (the one 404 is the deliberate search for a task that does not exist)', () => {
    expect(pageErrors).toEqual(['Failed to load resource: the server responded with a status of 404 (Not Found)']);
  });
});
