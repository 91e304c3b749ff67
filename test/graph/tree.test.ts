import { describe, expect, it } from 'vitest';
import { callCountOf, callsOf, loopsOf, TaskTrees, type CallRecord } from '../../governance/graph/tree.js';
import { taskSummary, taskToJSON } from '../../governance/graph/json.js';

const rec = (id: string, parent: string | undefined): CallRecord => ({
  id,
  parent,
  caller: 'spiffe://td/user/u',
  callerName: 'u',
  callee: 'spiffe://td/agent/a',
  calleeName: 'a',
  method: 'message/send',
  depth: 1,
  start: 0,
  decision: 'allowed',
  reason: undefined,
  message: undefined,
  status: undefined,
  durationMs: undefined,
  cost: 0,
  costInclusive: 0,
  traceId: undefined,
});

describe('TaskTrees: a tree of one call holds it without a map', () => {
  it('reports one call, then two, the same through every reader', () => {
    const trees = new TaskTrees({ maxTasks: 2, maxCallsPerTask: 10 });
    const t = trees.create('T', 'spiffe://td/user/u', 'u', 0);
    expect(callCountOf(t)).toBe(0);
    expect(taskSummary(t)).toMatchObject({ calls: 0, loops: 0 });
    const c1 = rec('c1', undefined);
    trees.add(t, c1);
    expect(callCountOf(t)).toBe(1);
    expect([...callsOf(t)]).toEqual([c1]);
    expect(loopsOf(t)).toEqual([]);
    trees.finish('T', 'c1', 200, 5);
    expect(c1).toMatchObject({ status: 200, durationMs: 5 });
    trees.finish('T', 'nope', 500, 1);
    trees.add(t, rec('c2', 'c1'));
    trees.addCost('T', 'c2', 'c1', 3);
    expect(callCountOf(t)).toBe(2);
    expect([...callsOf(t)].map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(t.calls.get('c1')!.costInclusive).toBe(3);
    expect(taskToJSON(t, 'usd', (id) => id).calls.map((c) => [c.id, c.costInclusive])).toEqual([
      ['c1', 3],
      ['c2', 3],
    ]);
    expect(trees.callCount()).toBe(2);
  });

  it('reading calls or loops of a one-call tree gives live collections', () => {
    const trees = new TaskTrees({ maxTasks: 2, maxCallsPerTask: 10 });
    const t = trees.ensure('T', 'spiffe://td/user/u', 'u', 0);
    trees.add(t, rec('c1', undefined));
    expect(t.calls.size).toBe(1);
    trees.add(t, rec('c2', 'c1'));
    expect(t.calls.size).toBe(2);
    t.loops.push({ callId: 'c2', from: 'a', to: 'b', cycle: ['a', 'b', 'a'] });
    expect(loopsOf(t)).toHaveLength(1);
    expect(taskSummary(t).loops).toBe(1);
  });

  it('create() evicts the least recently used tree and replaces one under the same id', () => {
    const trees = new TaskTrees({ maxTasks: 2, maxCallsPerTask: 10 });
    trees.create('A', 'i', 'i', 0);
    trees.create('B', 'i', 'i', 0);
    trees.ensure('A', 'i', 'i', 0); // touch
    trees.create('C', 'i', 'i', 0);
    expect(trees.list().map((t) => t.rootTaskId)).toEqual(['A', 'C']);
    const again = trees.create('A', 'i', 'i', 1);
    expect(trees.size()).toBe(2);
    expect(trees.get('A')).toBe(again);
    expect(trees.list().map((t) => t.rootTaskId)).toEqual(['C', 'A']);
  });
});
