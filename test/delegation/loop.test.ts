import { describe, expect, it } from 'vitest';
import { renderTaskTree } from '../../governance/graph/render.js';
import { answer, call, ID, makeConfig, makeStage, rootId } from './helpers.js';

describe('the all-night delegation loop', () => {
  it('is cut with 508 at the first revisit; the message names the cycle; the graph names initiator and closing edge', () => {
    const { stage, rec } = makeStage(makeConfig());
    // alice starts a task at the orchestrator
    const c1 = call(stage, 'alice', 'orchestrator');
    expect(c1.refusal).toBeUndefined();
    expect(c1.token).toBeDefined();
    // the orchestrator delegates to the researcher with the context it received
    const c2 = call(stage, 'orchestrator', 'researcher', c1.token);
    expect(c2.refusal).toBeUndefined();
    // the researcher hits a transient error and calls the orchestrator back: the loop
    const c3 = call(stage, 'researcher', 'orchestrator', c2.token);
    expect(c3.refusal).toBeDefined();
    const r = c3.refusal!;
    expect(r.status).toBe(508);
    expect(r.reason).toBe('loop');
    expect(r.code).toBe(-32110);
    expect(r.message).toContain('orchestrator -> researcher -> orchestrator');
    expect(r.data).toMatchObject({
      chain: [ID.alice, ID.orchestrator, ID.researcher, ID.orchestrator],
      initiator: ID.alice,
      closingEdge: { from: ID.researcher, to: ID.orchestrator },
      cycle: [ID.orchestrator, ID.researcher, ID.orchestrator],
    });
    expect(r.data.rootTaskId).toBe(rootId(c1));
    expect(c3.token).toBeUndefined();
    expect(rec.loopCuts).toEqual([['researcher', 'orchestrator']]);
    expect(rec.refusals).toEqual([['researcher', 'orchestrator', 'loop']]);
    expect(rec.warnings.some(([, m]) => m.includes('orchestrator -> researcher -> orchestrator'))).toBe(true);

    answer(stage, c2, 200);
    answer(stage, c1, 200);

    // the task's graph
    const task = stage.graph.taskJSON(rootId(c1))!;
    expect(task.initiator).toEqual({ id: ID.alice, name: 'alice' });
    expect(task.loops).toHaveLength(1);
    expect(task.loops[0]).toMatchObject({
      from: ID.researcher,
      to: ID.orchestrator,
      fromName: 'researcher',
      toName: 'orchestrator',
      cycleNames: ['orchestrator', 'researcher', 'orchestrator'],
    });
    expect(task.calls.map((c) => [c.callerName, c.calleeName, c.decision, c.reason])).toEqual([
      ['alice', 'orchestrator', 'allowed', null],
      ['orchestrator', 'researcher', 'allowed', null],
      ['researcher', 'orchestrator', 'refused', 'loop'],
    ]);
    // the tree links: each call's parent is the call that produced the context it used
    expect(task.calls[1].parent).toBe(task.calls[0].id);
    expect(task.calls[2].parent).toBe(task.calls[1].id);
    const text = renderTaskTree(task);
    expect(text).toContain('initiator: alice');
    expect(text).toMatch(/researcher -> orchestrator .*REFUSED loop/);
    expect(text).toContain('closed the cycle orchestrator -> researcher -> orchestrator');
    // in-flight went back to zero
    expect(stage.tasks.get(task.rootTaskId)!.inFlight).toBe(0);
  });

  it('with maxRevisits 1 allows one back-and-forth, then cuts', () => {
    const { stage } = makeStage(makeConfig({ agents: { orchestrator: { maxRevisits: 1 }, researcher: { maxRevisits: 1 } } }));
    const c1 = call(stage, 'alice', 'orchestrator');
    const c2 = call(stage, 'orchestrator', 'researcher', c1.token);
    const c3 = call(stage, 'researcher', 'orchestrator', c2.token); // orchestrator's first revisit
    expect(c3.refusal).toBeUndefined();
    const c4 = call(stage, 'orchestrator', 'researcher', c3.token); // researcher's first revisit
    expect(c4.refusal).toBeUndefined();
    const c5 = call(stage, 'researcher', 'orchestrator', c4.token); // orchestrator's second revisit
    expect(c5.refusal?.status).toBe(508);
    expect(c5.refusal?.message).toContain('orchestrator -> researcher -> orchestrator -> researcher -> orchestrator');
  });

  it('a self-call is a loop too', () => {
    const { stage } = makeStage(makeConfig());
    expect(call(stage, 'orchestrator', 'orchestrator').refusal?.reason).toBe('loop');
  });

  it('a context presented by another agent (borrowed) is refused before anything is counted', () => {
    const { stage } = makeStage(makeConfig());
    const c1 = call(stage, 'alice', 'orchestrator');
    const stolen = call(stage, 'writer', 'researcher', c1.token);
    expect(stolen.refusal).toMatchObject({ status: 403, reason: 'context_not_yours', code: -32104 });
    expect(stage.tasks.get(rootId(c1))!.calls).toBe(1);
  });

  it('the outbound context is new, never the inbound one, and carries the trace', () => {
    const { stage } = makeStage(makeConfig());
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const c1 = call(stage, 'alice', 'orchestrator', undefined, { traceparent: tp });
    const c2 = call(stage, 'orchestrator', 'researcher', c1.token);
    expect(c2.token).not.toBe(c1.token);
    expect(c1.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(c1.traceparent).not.toContain('00f067aa0ba902b7');
    // without an inbound traceparent the trace id is the root task id, so every call of a task shares it
    const c3 = call(stage, 'bob', 'orchestrator');
    const c4 = call(stage, 'orchestrator', 'writer', c3.token);
    const traceOf = (h: string) => h.split('-')[1];
    expect(traceOf(c3.traceparent!)).toBe(traceOf(c4.traceparent!));
    expect(traceOf(c3.traceparent!)).toBe(Buffer.from(rootId(c3), 'base64url').toString('hex'));
  });
});
