/**
 * The demo's pure parts: its config (checked with the gateway's own schema and policy compiler), the
 * Prometheus parsing and counting behind the summary, and how tasks are matched to the requests that
 * started them.
 */
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { compilePolicy, decideAuthorize } from '../../proxy/policy.js';
import { AGENT_NAMES, agentId, BURST_SIZE, demoConfig, demoConfigYaml, EDGE_LIMIT, USER_ID, type DemoPorts } from '../../demo/config.js';
import { countCalls, parsePrometheus, renderCounts, renderTasks, taskRows } from '../../demo/summary.js';
import { Cleanup } from '../../demo/cleanup.js';
import { clip, Narrator } from '../../demo/narrator.js';
import { freePorts } from '../../demo/ports.js';
import type { TaskSummaryJSON } from '../../governance/graph/json.js';

const ports: DemoPorts = {
  proxy: 1001,
  control: 1002,
  metrics: 1003,
  agents: { orchestrator: 2001, researcher: 2002, writer: 2003, flaky: 2004, rogue: 2005 },
};

describe('demo config', () => {
  const config = demoConfig(ports, '/tmp/audit.log');
  const policy = compilePolicy(config.policy, Object.keys(config.agents));
  const may = (from: string, to: string, method = 'SendMessage') => decideAuthorize(policy.grantsFor(from), to, method).allow;

  it('registers every agent at its port with its SPIFFE ID; the YAML round-trips to the same config', () => {
    for (const n of AGENT_NAMES) expect(config.agents[n]).toMatchObject({ url: `https://127.0.0.1:${ports.agents[n]}`, id: agentId(n) });
    expect(config.listen).toEqual({ proxy: '127.0.0.1:1001', control: '127.0.0.1:1002', metrics: '127.0.0.1:1003' });
    expect(demoConfig(ports, '/tmp/audit.log')).toEqual(config);
    const fromYaml = parse(demoConfigYaml(ports, '/tmp/audit.log')) as Record<string, unknown>;
    expect(fromYaml.listen).toEqual({ proxy: '127.0.0.1:1001', control: '127.0.0.1:1002', metrics: '127.0.0.1:1003' });
  });

  it('allows the story paths and nothing for the rogue', () => {
    expect(may(USER_ID, 'orchestrator', 'SendStreamingMessage')).toBe(true);
    for (const to of ['researcher', 'writer', 'flaky']) expect(may(agentId('orchestrator'), to)).toBe(true);
    expect(may(agentId('flaky'), 'orchestrator')).toBe(true);
    for (const to of AGENT_NAMES) expect(may(agentId('rogue'), to)).toBe(false);
    expect(may(USER_ID, 'writer')).toBe(false);
  });

  it('sets a per-edge limit a burst trips and the story single calls do not', () => {
    expect(config.rateLimits.perEdge).toEqual(EDGE_LIMIT);
    expect(EDGE_LIMIT.burst).toBeLessThan(BURST_SIZE);
    expect(EDGE_LIMIT.burst).toBeGreaterThanOrEqual(2);
    expect(config.delegation.task.maxFanOut).toBeGreaterThanOrEqual(BURST_SIZE);
  });
});

const METRICS = `# HELP tollgate_requests_total Calls
# TYPE tollgate_requests_total counter
tollgate_requests_total{caller="external",callee="orchestrator",method="SendMessage",status="200"} 3
tollgate_requests_total{caller="orchestrator",callee="researcher",method="SendMessage",status="200"} 20
tollgate_requests_total{caller="orchestrator",callee="researcher",method="SendMessage",status="429"} 10
tollgate_requests_total{caller="rogue",callee="writer",method="SendMessage",status="403"} 1
tollgate_requests_total{caller="flaky",callee="orchestrator",method="SendMessage",status="508"} 1
tollgate_requests_total{caller="flaky",callee="orchestrator",method="GetAgentCard",status="200"} 4
tollgate_denials_total{caller="rogue",callee="writer",reason="no_rule"} 1
tollgate_denials_total{caller="flaky",callee="orchestrator",reason="delegation"} 1
tollgate_rate_limited_total{caller="orchestrator",callee="researcher",limit="edge"} 10
tollgate_delegation_refusals_total{caller="flaky",callee="orchestrator",reason="loop"} 1
tollgate_odd{a="x\\"y",b="line\\nbreak"} 2.5
garbage line
`;

describe('summary', () => {
  it('parses Prometheus text, including escaped label values', () => {
    const s = parsePrometheus(METRICS);
    expect(s.find((x) => x.name === 'tollgate_odd')).toEqual({ name: 'tollgate_odd', labels: { a: 'x"y', b: 'line\nbreak' }, value: 2.5 });
    expect(s.filter((x) => x.name === 'tollgate_requests_total')).toHaveLength(6);
  });

  it('counts calls, card lookups and refusals by reason with their status', () => {
    const c = countCalls(parsePrometheus(METRICS));
    expect(c).toMatchObject({ calls: 35, answered: 23, refused: 12, cardLookups: 4 });
    // the delegation stage's own counter replaces the pipeline's lump "delegation" denial
    expect(c.refusals).toEqual([
      { status: 403, reason: 'no_rule', count: 1 },
      { status: 429, reason: 'edge', count: 10 },
      { status: 508, reason: 'loop', count: 1 },
    ]);
    expect(renderCounts(c).join('\n')).toMatch(/403\s+no_rule\s+× 1\n\s+429\s+edge\s+× 10\n\s+508\s+loop\s+× 1/);
  });

  it('falls back to the lump "delegation" reason when the stage has no counter of its own', () => {
    const c = countCalls(parsePrometheus(METRICS.replace(/^tollgate_delegation_refusals_total.*$/m, '')));
    expect(c.refusals.find((r) => r.reason === 'delegation')).toEqual({ status: undefined, reason: 'delegation', count: 1 });
  });

  it('labels each task with the request whose time window it started in, oldest first', () => {
    const task = (id: string, startedAt: number, cost: number, initiator = USER_ID): TaskSummaryJSON => ({
      rootTaskId: id,
      initiator: { id: initiator, name: initiator.split('/').pop()! },
      startedAt,
      calls: 3,
      refused: 0,
      cost,
      loops: 0,
      cancelled: false,
    });
    const started = [
      { label: 'brief', startedAfter: 100, startedBefore: 200 },
      { label: 'survey', startedAfter: 200, startedBefore: 300 },
      { label: 'figures', startedAfter: 300, startedBefore: 400 },
    ];
    // most recent first, as the gateway lists them; windows touching at 300 go to the later request
    const rows = taskRows([task('c', 300, 0.02), task('x', 250, 1, agentId('rogue')), task('b', 201, 0.5), task('a', 101, 0.08)], started, USER_ID);
    expect(rows.map((r) => [r.id, r.label])).toEqual([
      ['a', 'brief'],
      ['b', 'survey'],
      ['x', ''],
      ['c', 'figures'],
    ]);
    const text = renderTasks(rows, 'USD').join('\n');
    expect(text).toContain('cost per task (total 1.6 USD)');
    expect(text).toMatch(/a\s+alice\s+3\s+0\s+0\.08 USD\s+brief/);
  });
});

describe('demo plumbing', () => {
  it('freePorts gives distinct ports that can be listened on', async () => {
    const p = await freePorts(8);
    expect(new Set(p).size).toBe(8);
    for (const port of p) expect(port).toBeGreaterThan(0);
  });

  it('cleanup runs once, last in first out, and reports what failed without stopping', async () => {
    const order: string[] = [];
    const c = new Cleanup();
    c.add('a', () => order.push('a'));
    c.add('b', () => {
      throw new Error('boom');
    });
    c.add('c', () => Promise.resolve(order.push('c')));
    expect(await c.run()).toEqual(['b: boom']);
    expect(await c.run()).toEqual(['b: boom']);
    expect(order).toEqual(['c', 'a']);
    // a start that finishes after the undo began is undone at once
    c.add('late', () => order.push('late'));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['c', 'a', 'late']);
  });

  it('last-resort steps run in reverse and survive a throwing step', () => {
    const order: string[] = [];
    const c = new Cleanup();
    c.addLastResort(() => order.push('dir'));
    c.addLastResort(() => {
      throw new Error('gone');
    });
    c.addLastResort(() => order.push('kill'));
    c.runLastResort();
    expect(order).toEqual(['kill', 'dir']);
  });

  it('narrates progress with the time taken, and clips long text to one line', async () => {
    let out = '';
    let t = 1000;
    const say = new Narrator(
      (s) => (out += s),
      () => t,
    );
    await say.progress('starting gateway', () => {
      t += 800;
      return Promise.resolve();
    });
    await expect(say.progress('failing', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(out).toBe('  starting gateway… ok (0.8 s)\n  failing… failed (0.0 s)\n');
    expect(clip('a\n b   c')).toBe('a b c');
    expect(clip('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
