import { describe, expect, it } from 'vitest';
import { applyGraphEvent, type GraphEvent } from '../../governance/graph/feed.js';
import { governedCall, ID, makeConfig, makeStage, respond, type TestCall } from './helpers.js';
import type { DelegationCallHandle } from '../../governance/delegation/index.js';

/** A call as the exchange presents it, with the A2A task and context the tasks stage read (writable, as there). */
function a2aCall(taskId = '', contextId = ''): TestCall & { taskId: string; contextId: string } {
  return Object.assign(governedCall({ callerId: ID.alice, callee: 'orchestrator', calleeId: ID.orchestrator }), { taskId, contextId });
}

describe('the call graph carries the A2A task and context of each call', () => {
  it('from the request, and from the answer when the call created the task; the feed carries them to other replicas', () => {
    const events: GraphEvent[] = [];
    const { stage } = makeStage(makeConfig(), undefined, { feed: (e) => events.push(e) });
    const named = a2aCall('t-1', 'c-1');
    expect(stage.beforeForward(named)).toBeUndefined();
    respond(stage, named, 200);
    const created = a2aCall();
    expect(stage.beforeForward(created)).toBeUndefined();
    // the answer created task t-2 (the tasks stage sets it on the exchange before the call is finished)
    created.taskId = 't-2';
    created.contextId = 'c-2';
    respond(stage, created, 200);
    const plain = a2aCall();
    stage.beforeForward(plain);
    respond(stage, plain, 200);

    const root = (c: TestCall) => (c.governance as DelegationCallHandle).rootTaskId!;
    const json = (g: { taskJSON(id: string): unknown }, c: TestCall) =>
      (g.taskJSON(root(c)) as { calls: { taskId?: string | null; contextId?: string | null }[] }).calls[0];
    expect(json(stage.graph, named)).toMatchObject({ taskId: 't-1', contextId: 'c-1' });
    expect(json(stage.graph, created)).toMatchObject({ taskId: 't-2', contextId: 'c-2' });
    // the JSON shape only gains fields: a call without them says null
    expect(json(stage.graph, plain)).toMatchObject({ taskId: null, contextId: null, traceId: expect.any(String) });

    // another replica applying the feed shows the same
    const replica = makeStage(makeConfig()).stage.graph;
    for (const e of events) applyGraphEvent(replica, JSON.parse(JSON.stringify(e)) as GraphEvent);
    expect(json(replica, created)).toMatchObject({ taskId: 't-2', contextId: 'c-2' });
    expect(json(replica, named)).toMatchObject({ taskId: 't-1', contextId: 'c-1' });
  });
});
