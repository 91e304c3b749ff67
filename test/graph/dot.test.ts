import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { taskToDot } from '../../governance/graph/dot.js';
import { renderAggregateTable } from '../../governance/graph/render.js';
import { answer, call, ID, makeConfig, makeStage, rootId } from '../delegation/helpers.js';

function hasDot(): boolean {
  try {
    execFileSync('dot', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Structural checks any DOT parser would make: one digraph, balanced braces and quotes, edges between declared nodes. */
function checkDigraph(dot: string): { edges: string[] } {
  expect(dot).toMatch(/^digraph "[^"]*" \{\n/);
  expect(dot.trimEnd().endsWith('}')).toBe(true);
  let depth = 0;
  let inQuote = false;
  for (let i = 0; i < dot.length; i++) {
    const ch = dot[i];
    if (inQuote) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuote = false;
    } else if (ch === '"') inQuote = true;
    else if (ch === '{') depth++;
    else if (ch === '}') depth--;
    expect(depth).toBeGreaterThanOrEqual(0);
  }
  expect(depth).toBe(0);
  expect(inQuote).toBe(false);
  const nodes = new Set([...dot.matchAll(/^ {2}("(?:[^"\\]|\\.)*") \[/gm)].map((m) => m[1]));
  const edges = [...dot.matchAll(/^ {2}("(?:[^"\\]|\\.)*") -> ("(?:[^"\\]|\\.)*") \[(.*)\];$/gm)];
  for (const e of edges) {
    expect(nodes.has(e[1])).toBe(true);
    expect(nodes.has(e[2])).toBe(true);
  }
  return { edges: edges.map((e) => `${e[1]} -> ${e[2]} ${e[3]}`) };
}

function loopTask() {
  const { stage, clock } = makeStage(makeConfig());
  const c1 = call(stage, 'alice', 'orchestrator');
  const c2 = call(stage, 'orchestrator', 'researcher', c1.token);
  call(stage, 'researcher', 'orchestrator', c2.token);
  answer(stage, c2);
  answer(stage, c1, 200, '0.5');
  return { stage, clock, id: rootId(c1) };
}

describe('Graphviz DOT', () => {
  it('a task: a digraph with the initiator marked and the closing edge red and bold', () => {
    const { stage, id } = loopTask();
    const dot = stage.graph.taskDot(id)!;
    const { edges } = checkDigraph(dot);
    expect(edges).toHaveLength(3);
    expect(dot).toContain(`"${ID.alice}" [label="alice\\n(initiator)", shape=doubleoctagon`);
    const cut = edges.filter((e) => e.includes('color=red'));
    expect(cut).toHaveLength(1);
    expect(cut[0]).toContain(`"${ID.researcher}" -> "${ID.orchestrator}"`);
    expect(cut[0]).toContain('style=bold');
    expect(cut[0]).toContain('LOOP CUT');
  });

  it('the aggregate: cycle edges highlighted', () => {
    const { stage, clock } = makeStage(makeConfig());
    for (const [from, to] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'a'],
      ['a', 'writer'],
    ] as const)
      answer(stage, call(stage, from, to));
    const dot = stage.graph.aggregateDot(clock.now());
    const { edges } = checkDigraph(dot);
    expect(edges).toHaveLength(4);
    expect(edges.filter((e) => e.includes('color=red'))).toHaveLength(3);
    expect(edges.find((e) => e.includes(ID.writer))).not.toContain('color=red');
    const table = renderAggregateTable(stage.graph.aggregateJSON(clock.now()));
    // calls, errors, refused, avg / p50 / p99 / max ms (the fake clock: 0 ms; p50/p99 read from the first bin)
    expect(table).toMatch(/^a\s+b\s+1\s+0\s+0\s+0\.0\s+0\.0\s+0\.0\s+0\.0\s+CYCLE$/m);
    expect(table).toMatch(/^a\s+writer\s+1\s+0\s+0\s+0\.0\s+0\.0\s+0\.0\s+0\.0$/m);
    expect(table).toContain('cycle: a -> b -> c -> a');
    // the recent tasks, newest first, so the user can pick one for --task
    expect(table).toContain('recent tasks (tollgate graph --task ID):');
    const taskLines = table
      .slice(table.indexOf('recent tasks'))
      .split('\n')
      .slice(2)
      .filter((l) => l);
    expect(taskLines).toHaveLength(4);
    expect(taskLines[0]).toMatch(/^\S+\s+a\s+\S+Z\s+1\s+0\s+0\s+0\s+0$/);
  });

  it('escapes quotes and backslashes in labels', () => {
    const { stage, id } = loopTask();
    const t = stage.graph.taskJSON(id)!;
    t.calls[0].method = 'we"ird\\method';
    checkDigraph(taskToDot(t));
    expect(taskToDot(t)).toContain('we\\"ird\\\\method');
  });

  it.runIf(hasDot())('graphviz accepts both outputs', () => {
    const { stage, clock, id } = loopTask();
    for (const dot of [stage.graph.taskDot(id)!, stage.graph.aggregateDot(clock.now())]) {
      const svg = execFileSync('dot', ['-Tsvg'], { input: dot }).toString();
      expect(svg).toContain('<svg');
    }
  });
});
