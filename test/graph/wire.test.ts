import { describe, expect, it } from 'vitest';
import { KeyRing } from '../../governance/delegation/index.js';
import { PUSH_METHOD } from '../../protocol/push.js';
import { applyGraphBatch, GraphBatch, type CallGraph, type GraphEvent } from '../../governance/graph/index.js';
import { answer, call, fakeClock, governedCall, ID, makeConfig, makeStage, respond, rootId } from '../delegation/helpers.js';

/** What a replica shows of a graph: every tree, the aggregate (edges, cycles), an agent's recent calls. */
function view(g: CallGraph, roots: string[], now: number) {
  return {
    trees: roots.map((r) => g.taskJSON(r)),
    tasks: g.tasksJSON(),
    aggregate: g.aggregateJSON(now),
    writer: g.agentDetail(ID.writer, now),
    b: g.agentDetail(ID.b, now),
  };
}

describe('graph batches (the fleet graph stream)', () => {
  it('a replica applying the batches shows what the stage that made them recorded', () => {
    const clock = fakeClock();
    const batch = new GraphBatch();
    const { stage } = makeStage(makeConfig(), clock, { feed: (e) => batch.add(e) });
    const replica = makeStage(makeConfig(), clock).stage.graph;
    const cancelled: string[] = [];
    const roots: string[] = [];
    let applied = 0;
    /** send the batch: the replica shows the same as the stage, calls in flight included */
    const cut = () => {
      applied += applyGraphBatch(replica, batch.take(), (r) => cancelled.push(r));
      expect(view(replica, roots, clock.now())).toEqual(view(stage.graph, roots, clock.now()));
    };

    // plain root calls: answered, failed upstream, no answer, a 5xx
    for (const [status, error] of [
      [200, undefined],
      [502, 'reset'],
      [0, 'client_abort'],
      [503, undefined],
    ] as const) {
      const c = call(stage, 'a', 'b');
      roots.push(rootId(c));
      clock.advance(7);
      c.ctx.error = error;
      answer(stage, c, status);
    }
    // A2A ids: named by the request, and created by the answer (one row: the call ends in its batch)
    const named = Object.assign(governedCall({ callerId: ID.a, callee: 'c', calleeId: ID.c }), { taskId: 't-1', contextId: 'c-1' });
    expect(stage.beforeForward(named)).toBeUndefined();
    roots.push((named.governance as { rootTaskId: string }).rootTaskId);
    respond(stage, named, 200);
    const created = Object.assign(governedCall({ callerId: ID.a, callee: 'c', calleeId: ID.c }), { taskId: '', contextId: '' });
    expect(stage.beforeForward(created)).toBeUndefined();
    roots.push((created.governance as { rootTaskId: string }).rootTaskId);
    Object.assign(created, { taskId: 't-2', contextId: 'c-2' });
    respond(stage, created, 200);
    // a task over three hops: cost reported, a loop cut, one call still in flight when the batch goes
    const first = call(stage, 'orchestrator', 'researcher');
    roots.push(rootId(first));
    clock.advance(3);
    const second = call(stage, 'researcher', 'writer', first.token);
    const loop = call(stage, 'writer', 'researcher', second.token);
    expect(loop.refusal?.reason).toBe('loop');
    clock.advance(5);
    answer(stage, second, 200, '2.5');
    cut();
    clock.advance(11);
    // the answer created an A2A task: known only at the end (an END row, its call went in the last batch)
    Object.assign(first.ctx, { taskId: 't-9', contextId: 'c-9' });
    answer(stage, first, 200, '1');
    // allowed here, refused by a later stage; a refusal before the delegation stage; a push without a task
    const undone = call(stage, 'b', 'a');
    roots.push(rootId(undone));
    stage.onRefused(undone.ctx, { status: 429, reason: 'rate_limited' });
    stage.onRefused(governedCall({ callerId: ID.c, callee: 'writer', calleeId: ID.writer }), { status: 403, reason: 'no_rule' });
    const push = governedCall({ callerId: ID.writer, callee: 'b', calleeId: ID.b, method: PUSH_METHOD });
    expect(stage.beforeForward(push)).toBeUndefined();
    clock.advance(2);
    respond(stage, push, 200);
    cut();
    // a batch sent before its calls end (one named an A2A task), then cancelled
    const open = call(stage, 'c', 'a');
    roots.push(rootId(open));
    const openNamed = Object.assign(governedCall({ callerId: ID.c, callee: 'b', calleeId: ID.b }), { taskId: 't-3', contextId: '' });
    expect(stage.beforeForward(openNamed)).toBeUndefined();
    roots.push((openNamed.governance as { rootTaskId: string }).rootTaskId);
    cut();
    expect(stage.cancelTask(rootId(open))).toBe(true);
    clock.advance(4);
    answer(stage, open, 499);
    respond(stage, openNamed, 200);
    cut();

    expect(replica.trees.get(rootId(first))?.loops).toHaveLength(1);
    expect(replica.trees.get(rootId(first))?.cost).toBe(3.5);
    expect(cancelled).toEqual([rootId(open)]);
    expect(applied).toBeGreaterThan(roots.length);
  });

  it("a child's cost recorded before its parent's row arrives from the other replica still rolls up into it", () => {
    const clock = fakeClock();
    const config = makeConfig();
    const keyring = new KeyRing({ now: clock.now, retentionMs: config.delegation.tokenTtl });
    const batches = { a: new GraphBatch(), b: new GraphBatch() };
    const a = makeStage(config, clock, { keyring, feed: (e) => batches.a.add(e) }).stage;
    const b = makeStage(config, clock, { keyring, feed: (e) => batches.b.add(e) }).stage;
    const first = call(a, 'orchestrator', 'researcher'); // on A, in A's next batch
    clock.advance(1);
    const second = call(b, 'researcher', 'writer', first.token); // on B
    clock.advance(1);
    const third = call(b, 'writer', 'c', second.token);
    answer(b, third, 200, '1'); // B: third and second cost 1 inclusive; first is not in B's tree yet
    answer(b, second, 200, '2');
    applyGraphBatch(b.graph, batches.a.take()); // first arrives at B: it takes the 3 its children rolled up
    applyGraphBatch(a.graph, batches.b.take());
    answer(a, first, 200, '0.5');
    applyGraphBatch(b.graph, batches.a.take());
    const inclusive = (g: CallGraph) => g.taskJSON(rootId(first))?.calls.map((c) => [c.callerName, c.cost, c.costInclusive]);
    expect(inclusive(a.graph)).toEqual([
      ['orchestrator', 0.5, 3.5],
      ['researcher', 2, 3],
      ['writer', 1, 1],
    ]);
    expect(inclusive(b.graph)).toEqual(inclusive(a.graph));
  });

  it('a call and its end in one batch are one row; a cancel makes the batch urgent', () => {
    const events: GraphEvent[] = [];
    const clock = fakeClock();
    const { stage } = makeStage(makeConfig(), clock, { feed: (e) => events.push(e) });
    const c = call(stage, 'a', 'b');
    answer(stage, c, 200);
    const batch = new GraphBatch();
    for (const e of events) batch.add(e);
    expect(batch.events).toBe(2);
    expect(batch.urgent).toBe(false);
    const [, , strings, rows] = JSON.parse(batch.take()) as [number, number, string[], unknown[]];
    expect(rows).toHaveLength(22); // one CALL row
    expect(strings).toContain(ID.a);
    batch.add({ k: 'cancel', root: rootId(c) });
    expect(batch.urgent).toBe(true);
    batch.take();
    expect(batch.events).toBe(0);
    expect(batch.urgent).toBe(false);
  });

  it('refuses a batch of another format', () => {
    const g = makeStage(makeConfig()).stage.graph;
    expect(() => applyGraphBatch(g, '[1,0,[],[]]')).toThrow(/unknown format/);
    expect(() => applyGraphBatch(g, '[2,0,[],[9]]')).toThrow(/unknown row/);
  });
});
