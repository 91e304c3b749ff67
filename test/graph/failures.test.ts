import { describe, expect, it } from 'vitest';
import { AggregateGraph } from '../../governance/graph/aggregate.js';
import { renderAggregateTable, renderTaskTree } from '../../governance/graph/render.js';
import { answer, call, ID, makeConfig, makeStage, rootId } from '../delegation/helpers.js';

/**
 * A call whose upstream failed: the caller got the gateway's 502 (connection refused). Every view of the call
 * tree says so, with the status the caller got and why; it used to read "0  allowed" with a plain edge.
 */
function failedTask() {
  const { stage, clock } = makeStage(makeConfig());
  const root = call(stage, 'alice', 'orchestrator');
  const w = call(stage, 'orchestrator', 'writer', root.token);
  clock.advance(3);
  // what the pipeline hands governance after forward.ts wrote the 502
  w.ctx.status = 502;
  w.ctx.error = 'refused';
  stage.onComplete(w.ctx);
  answer(stage, root, 200);
  return { stage, clock, id: rootId(root) };
}

describe('an upstream failure in the call tree', () => {
  it('JSON: the status the caller got, outcome error, the kind and a message', () => {
    const { stage, id } = failedTask();
    const t = stage.graph.taskJSON(id)!;
    const w = t.calls.find((c) => c.calleeName === 'writer')!;
    expect(w).toMatchObject({ status: 502, decision: 'allowed', outcome: 'error', error: 'refused', durationMs: 3 });
    expect(w.message).toBe("nothing answers at the agent's address (connection refused)");
    expect(t.calls.find((c) => c.calleeName === 'orchestrator')).toMatchObject({ status: 200, outcome: 'ok', error: null, message: null });
    expect(stage.graph.tasksJSON()[0]).toMatchObject({ rootTaskId: id, errors: 1 });
  });

  it('text (`tollgate graph --task`): FAILED with the kind and why, not "0 allowed"', () => {
    const { stage, id } = failedTask();
    const text = renderTaskTree(stage.graph.taskJSON(id)!);
    expect(text).toContain("└─ orchestrator -> writer  message/send  502  FAILED refused: nothing answers at the agent's address (connection refused)  3 ms");
    expect(text).not.toMatch(/writer .* allowed/);
    expect(text).not.toMatch(/ {2}0 {2}/);
  });

  it('DOT: the failed call is orange with its status and why', () => {
    const { stage, id } = failedTask();
    const edge = stage.graph
      .taskDot(id)!
      .split('\n')
      .find((l) => l.includes(`-> "${ID.writer}"`))!;
    expect(edge).toContain('502 FAILED refused');
    expect(edge).toContain('connection refused');
    expect(edge).toContain('color="#e07000"');
  });

  it('the aggregate: errors by kind, the edge and the callee unhealthy, orange in DOT, the kind in the table', () => {
    const { stage, clock } = failedTask();
    const g = stage.graph.aggregateJSON(clock.now());
    const e = g.edges.find((x) => x.to === ID.writer)!;
    expect(e).toMatchObject({ calls: 1, errors: 1, errorsByKind: { refused: 1 }, errorRate: 1, health: 'bad' });
    const writer = g.nodes.find((n) => n.id === ID.writer)!;
    expect(writer).toMatchObject({ in: { calls: 1, errors: 1, refusals: 0 }, errorRate: 1, health: 'bad' });
    expect(g.nodes.find((n) => n.id === ID.alice)!.health).toBe('ok');
    const dotEdge = stage.graph
      .aggregateDot(clock.now())
      .split('\n')
      .find((l) => l.includes(`-> "${ID.writer}"`))!;
    expect(dotEdge).toContain('color="#e07000"');
    expect(dotEdge).toContain('refused 1');
    expect(renderAggregateTable(g)).toMatch(/^orchestrator\s+writer\s+1\s+1\s+0\s.*failed: refused 1$/m);
  });

  it('an agent answering 503 itself is a failure too, counted as http_503', () => {
    const { stage, clock } = makeStage(makeConfig());
    const r = call(stage, 'alice', 'writer');
    answer(stage, r, 503);
    const t = stage.graph.taskJSON(rootId(r))!;
    expect(t.calls[0]).toMatchObject({ status: 503, outcome: 'error', error: null, message: 'the agent answered 503' });
    expect(stage.graph.aggregateJSON(clock.now()).edges[0].errorsByKind).toEqual({ http_503: 1 });
  });
});

describe('aggregate figures for the console', () => {
  it('latency percentiles from the histogram, within a bin of the true value', () => {
    const g = new AggregateGraph({ windowMs: 60_000 });
    for (let ms = 1; ms <= 100; ms++) {
      g.recordCall('a', 'b', 1000);
      g.recordResult('a', 'b', 1000, ms, false);
    }
    const [e] = g.edgeStats(1000);
    expect(e.latencyP50Ms!).toBeGreaterThan(50 / 1.27);
    expect(e.latencyP50Ms!).toBeLessThan(50 * 1.27);
    expect(e.latencyP99Ms!).toBeGreaterThan(99 / 1.27);
    expect(e.latencyP99Ms!).toBeLessThanOrEqual(100);
    expect(e.latencyMaxMs).toBe(100);
  });

  it('refusals by reason, and a range shorter than the window', () => {
    const g = new AggregateGraph({ windowMs: 60_000 }); // 10 buckets of 6 s
    g.recordRefusal('a', 'b', 1_000, 'no_rule');
    g.recordRefusal('a', 'b', 50_000, 'loop');
    g.recordRefusal('a', 'b', 51_000, 'loop');
    expect(g.edgeStats(55_000)[0].refusalsByReason).toEqual({ no_rule: 1, loop: 2 });
    // the last 10 s: two buckets (48-54 s and 54-60 s)
    expect(g.edgeStats(55_000, 10_000)[0]).toMatchObject({ refusals: 2, refusalsByReason: { loop: 2 } });
    expect(g.rangeSpanMs(10_000)).toBe(12_000);
    // nothing in range: the edge is left out of a ranged view only
    expect(g.edgeStats(55_000 + 20_000, 6_000)).toEqual([]);
  });

  it('a reused bucket slot forgets its old reasons and latencies', () => {
    const g = new AggregateGraph({ windowMs: 10_000, buckets: 2 });
    g.recordRefusal('a', 'b', 0, 'no_rule');
    g.recordResult('a', 'b', 0, 900, true, 'timeout');
    g.recordCall('a', 'b', 10_000);
    g.recordResult('a', 'b', 10_000, 2, false);
    const [e] = g.edgeStats(10_000);
    expect(e).toMatchObject({ calls: 1, errors: 0, refusals: 0, refusalsByReason: {}, errorsByKind: {}, latencyMaxMs: 2 });
    expect(e.latencyP99Ms!).toBeLessThanOrEqual(2);
  });
});
