import { describe, expect, it } from 'vitest';
import type { AggregateJSON, TaskTreeJSON } from '../../governance/graph/json.js';
import { renderAggregateTable, renderTaskTree } from '../../governance/graph/render.js';
import { TaskTrees } from '../../governance/graph/tree.js';
import { answer, call, makeConfig, makeStage, rootId } from '../delegation/helpers.js';

describe('renderTaskTree', () => {
  it('draws nesting with status, decision, duration and inclusive cost per call', () => {
    const { stage, clock } = makeStage(makeConfig());
    const root = call(stage, 'alice', 'orchestrator');
    const r = call(stage, 'orchestrator', 'researcher', root.token);
    const w = call(stage, 'researcher', 'writer', r.token);
    const w2 = call(stage, 'orchestrator', 'writer', root.token);
    clock.advance(25);
    answer(stage, w, 200, '0.5');
    answer(stage, r, 502);
    answer(stage, w2, 200, '1');
    answer(stage, root, 200);
    const text = renderTaskTree(stage.graph.taskJSON(rootId(root))!);
    const lines = text.split('\n');
    const body = lines.slice(lines.indexOf('') + 1).filter((l) => l);
    expect(body).toEqual([
      'alice -> orchestrator  message/send  200  allowed  25 ms  cost 1.5 USD (self 0)',
      '├─ orchestrator -> researcher  message/send  502  FAILED: the agent answered 502  25 ms  cost 0.5 USD (self 0)',
      '│  └─ researcher -> writer  message/send  200  allowed  25 ms  cost 0.5 USD',
      '└─ orchestrator -> writer  message/send  200  allowed  25 ms  cost 1 USD',
    ]);
    expect(text).toContain('calls:     4 (0 refused), cost 1.5 USD');
    expect(text).not.toContain('loop cut');
  });

  it('shows calls whose parent was not recorded (tree full) at the top level, and says how many were not recorded', () => {
    const trees = new TaskTrees({ maxTasks: 2, maxCallsPerTask: 1 });
    const t = trees.ensure('T', 'spiffe://td/user/u', 'u', 0);
    const rec = (id: string, parent: string | undefined) => ({
      id,
      parent,
      caller: 'spiffe://td/user/u',
      callerName: 'u',
      callee: 'spiffe://td/agent/x',
      calleeName: 'x',
      method: 'm',
      depth: 1,
      start: 0,
      decision: 'allowed' as const,
      reason: undefined,
      message: undefined,
      status: undefined,
      durationMs: undefined,
      cost: 0,
      costInclusive: 0,
      traceId: undefined,
    });
    expect(trees.add(t, rec('c1', undefined))).toBe(true);
    expect(trees.add(t, rec('c2', 'c1'))).toBe(false);
    // the unrecorded call's cost still rolls up into its recorded parent
    trees.addCost('T', 'c2', 'c1', 2);
    expect(t.calls.get('c1')!.costInclusive).toBe(2);
    const json: TaskTreeJSON = {
      rootTaskId: 'T',
      initiator: { id: 'spiffe://td/user/u', name: 'u' },
      startedAt: 0,
      costUnit: 'USD',
      cancelled: true,
      totals: { calls: 2, refused: 0, cost: 2, droppedCalls: 1 },
      loops: [],
      calls: [
        {
          id: 'c9',
          parent: 'gone',
          caller: 'a',
          callerName: 'a',
          callee: 'b',
          calleeName: 'b',
          method: 'm',
          depth: 3,
          start: 0,
          status: null,
          durationMs: null,
          decision: 'allowed',
          reason: null,
          message: null,
          cost: 0,
          costInclusive: 0,
          traceId: null,
        },
      ],
    };
    const text = renderTaskTree(json);
    expect(text).toContain('[CANCELLED]');
    expect(text).toContain('1 not recorded (tree full)');
    expect(text).toMatch(/^a -> b {2}m {2}in flight {2}allowed$/m);
  });
});

describe('renderAggregateTable', () => {
  it('says so when the window is empty', () => {
    const g: AggregateJSON = { at: 0, windowMs: 300_000, costUnit: 'USD', nodes: [], edges: [], cycles: [] };
    const text = renderAggregateTable(g);
    expect(text).toContain('no calls in the window');
    expect(text).toContain('cycles: none');
  });
});
