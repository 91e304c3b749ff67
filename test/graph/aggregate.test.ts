import { describe, expect, it } from 'vitest';
import { AggregateGraph } from '../../governance/graph/aggregate.js';
import { answer, call, governedCall, ID, makeConfig, makeStage } from '../delegation/helpers.js';

describe('aggregate graph', () => {
  it('flags a loop between agents that strip the delegation header (a -> b -> c -> a, no contexts)', () => {
    const { stage, clock, rec } = makeStage(makeConfig());
    // each hop starts a "new" root because the agents drop the header: the per-task check cannot see it
    for (const [from, to] of [
      ['a', 'b'],
      ['b', 'c'],
    ] as const) {
      const r = call(stage, from, to);
      expect(r.refusal).toBeUndefined();
      answer(stage, r);
    }
    expect(stage.graph.cycles()).toEqual([]);
    const closing = call(stage, 'c', 'a');
    expect(closing.refusal).toBeUndefined();
    expect(stage.graph.cycles()).toEqual([[ID.a, ID.b, ID.c, ID.a]]);
    expect(rec.cycles).toEqual([1]);
    expect(rec.warnings.map(([, m]) => m)).toContain('call graph cycle: a -> b -> c -> a');
    const g = stage.graph.aggregateJSON(clock.now());
    expect(g.cycles).toEqual([{ ids: [ID.a, ID.b, ID.c, ID.a], names: ['a', 'b', 'c', 'a'] }]);
    expect(
      g.edges
        .filter((e) => e.onCycle)
        .map((e) => `${e.fromName}>${e.toName}`)
        .sort(),
    ).toEqual(['a>b', 'b>c', 'c>a']);
    expect(g.nodes.find((n) => n.id === ID.a)?.onCycle).toBe(true);

    // more calls on the same ring do not re-announce it
    call(stage, 'a', 'b');
    expect(rec.cycles).toEqual([1]);
    expect(rec.warnings.filter(([, m]) => m.startsWith('call graph cycle'))).toHaveLength(1);

    // when the ring goes quiet for a window, the cycle disappears
    clock.advance(5 * 60_000 + 60_000); // graph.window defaults to 5m
    stage.tick();
    expect(stage.graph.cycles()).toEqual([]);
    expect(rec.cycles).toEqual([1, 0]);
  });

  it('counts calls, errors, refusals and latency per edge over the window', () => {
    const { stage, clock } = makeStage(makeConfig({ agents: { a: { limits: { callsPerMinute: 2 } } } }));
    const r1 = call(stage, 'a', 'b');
    clock.advance(10);
    answer(stage, r1, 200);
    const r2 = call(stage, 'a', 'b');
    clock.advance(30);
    answer(stage, r2, 503);
    expect(call(stage, 'a', 'b').refusal).toBeDefined();
    const e = stage.graph.aggregateJSON(clock.now()).edges.find((x) => x.from === ID.a && x.to === ID.b)!;
    expect(e).toMatchObject({ calls: 2, errors: 1, refusals: 1, latencyAvgMs: 20, latencyMaxMs: 30, onCycle: false });
    clock.advance(5 * 60_000 + 31_000);
    expect(stage.graph.aggregateJSON(clock.now()).edges).toEqual([]);
  });

  it('records refusals made by earlier stages (onRefused without beforeForward) on the edge, not in metrics', () => {
    const { stage, clock, rec } = makeStage(makeConfig());
    const ctx = governedCall({ callerId: ID.a, callee: 'b', calleeId: ID.b });
    stage.onRefused(ctx, { status: 403, reason: 'policy_denied' });
    const e = stage.graph.aggregateJSON(clock.now()).edges[0];
    expect(e).toMatchObject({ from: ID.a, to: ID.b, calls: 0, refusals: 1 });
    expect(rec.refusals).toEqual([]);
  });

  it('edges whose calls were all refused do not form a cycle (the loop is already cut)', () => {
    const g = new AggregateGraph({ windowMs: 60_000 });
    g.recordCall('x', 'y', 1);
    g.recordRefusal('y', 'x', 1);
    expect(g.cycles()).toEqual([]);
    g.recordCall('y', 'x', 2);
    expect(g.cycles()).toEqual([['x', 'y', 'x']]);
  });

  it('stays bounded in edges', () => {
    const g = new AggregateGraph({ windowMs: 60_000, maxEdges: 100 });
    for (let i = 0; i < 1000; i++) g.recordCall(`n${i}`, 'sink', 1);
    expect(g.size()).toBe(100);
    expect(g.droppedEdges).toBe(900);
  });

  it('graph.enforceCycles halves the window limits of agents on a cycle', () => {
    const run = (enforceCycles: boolean) => {
      const { stage } = makeStage(makeConfig({ graph: { enforceCycles }, agents: { a: { limits: { callsPerMinute: 6 } } } }));
      for (const [from, to] of [
        ['b', 'c'],
        ['c', 'a'],
      ] as const)
        answer(stage, call(stage, from, to));
      let allowed = 0;
      for (let i = 0; i < 10; i++) if (!call(stage, 'a', 'b').refusal) allowed++;
      return allowed;
    };
    // off: the full 6; on: a -> b closes the ring a-b-c on the first call, so a gets 6/2 = 3
    expect(run(false)).toBe(6);
    expect(run(true)).toBe(3);
  });
});
