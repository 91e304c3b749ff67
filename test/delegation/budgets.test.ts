import { describe, expect, it } from 'vitest';
import { answer, call, ID, makeConfig, makeStage, respond, rootId } from './helpers.js';

describe('per root task budgets', () => {
  it('maxFanOut limits the children of one call (not of the task)', () => {
    const { stage, rec } = makeStage(makeConfig({ delegation: { task: { maxFanOut: 2 } } }));
    const root = call(stage, 'alice', 'orchestrator');
    expect(call(stage, 'orchestrator', 'researcher', root.token).refusal).toBeUndefined();
    const second = call(stage, 'orchestrator', 'writer', root.token);
    expect(second.refusal).toBeUndefined();
    const third = call(stage, 'orchestrator', 'a', root.token);
    expect(third.refusal).toMatchObject({ status: 429, reason: 'task_fan_out', code: -32121 });
    expect(third.refusal!.message).toContain('maxFanOut 2');
    expect(rec.budgets).toEqual([['task', 'maxFanOut']]);
    // finishing a child does not give the slot back: fan-out counts children, not in-flight
    answer(stage, second);
    expect(call(stage, 'orchestrator', 'a', root.token).refusal?.reason).toBe('task_fan_out');
    // a grandchild has its own fan-out
    expect(call(stage, 'writer', 'a', second.token).refusal).toBeUndefined();
  });

  it('maxDepth: the chain may have maxDepth hops, the next one is refused with 508', () => {
    const { stage } = makeStage(makeConfig({ delegation: { maxDepth: 3 } }));
    const h1 = call(stage, 'alice', 'a');
    const h2 = call(stage, 'a', 'b', h1.token);
    const h3 = call(stage, 'b', 'c', h2.token);
    expect(h3.refusal).toBeUndefined();
    const h4 = call(stage, 'c', 'writer', h3.token);
    expect(h4.refusal).toMatchObject({ status: 508, reason: 'depth', code: -32111 });
    expect(h4.refusal!.message).toContain('4 hops exceeds maxDepth 3');
    expect(h4.refusal!.message).toContain('alice -> a -> b -> c -> writer');
  });

  it('deadline: calls under a task are refused once its wall-clock deadline from the root start has passed', () => {
    const { stage, clock } = makeStage(makeConfig({ delegation: { tokenTtl: '1h', task: { deadline: '10m' } } }));
    const root = call(stage, 'alice', 'orchestrator');
    clock.advance(9 * 60_000);
    const child = call(stage, 'orchestrator', 'researcher', root.token);
    expect(child.refusal).toBeUndefined();
    clock.advance(60_000);
    const late = call(stage, 'researcher', 'writer', child.token);
    expect(late.refusal).toMatchObject({ status: 429, reason: 'task_deadline' });
    expect(late.refusal!.retryAfterSec).toBeUndefined();
  });

  it('maxCalls counts every call in the tree', () => {
    const { stage } = makeStage(makeConfig({ delegation: { task: { maxCalls: 3 } } }));
    const root = call(stage, 'alice', 'orchestrator');
    const c2 = call(stage, 'orchestrator', 'researcher', root.token);
    expect(call(stage, 'researcher', 'writer', c2.token).refusal).toBeUndefined();
    expect(call(stage, 'orchestrator', 'writer', root.token).refusal).toMatchObject({ reason: 'task_max_calls', status: 429 });
  });

  it('maxConcurrent counts in-flight calls and frees a slot when one finishes (Retry-After 1)', () => {
    const { stage } = makeStage(makeConfig({ delegation: { task: { maxConcurrent: 2 } } }));
    const root = call(stage, 'alice', 'orchestrator');
    const c2 = call(stage, 'orchestrator', 'researcher', root.token);
    const c3 = call(stage, 'orchestrator', 'writer', root.token);
    expect(c3.refusal).toMatchObject({ reason: 'task_concurrency', retryAfterSec: 1 });
    answer(stage, c2);
    expect(call(stage, 'orchestrator', 'writer', root.token).refusal).toBeUndefined();
  });

  it('in-flight is decremented exactly once, also on upstream errors and aborts', () => {
    const { stage } = makeStage(makeConfig());
    const root = call(stage, 'alice', 'orchestrator');
    const id = rootId(root);
    const a = call(stage, 'orchestrator', 'researcher', root.token);
    const b = call(stage, 'orchestrator', 'writer', root.token);
    expect(stage.tasks.get(id)!.inFlight).toBe(3);
    // upstream error: onFinished(ctx, 0), then the pipeline's finally calls it again
    stage.onFinished(a.ctx, 0);
    stage.onFinished(a.ctx, 0);
    respond(stage, a.ctx, 200);
    expect(stage.tasks.get(id)!.inFlight).toBe(2);
    // normal answer, then an abort notification for the same call
    answer(stage, b);
    stage.onFinished(b.ctx, 0);
    expect(stage.tasks.get(id)!.inFlight).toBe(1);
    // refused by a later stage after this one allowed: undone once
    const c = call(stage, 'orchestrator', 'a', root.token);
    stage.onRefused(c.ctx, { status: 429, reason: 'rate_limited' });
    stage.onRefused(c.ctx, { status: 429, reason: 'rate_limited' });
    stage.onFinished(c.ctx, 429);
    expect(stage.tasks.get(id)!.inFlight).toBe(1);
    answer(stage, root);
    expect(stage.tasks.get(id)!.inFlight).toBe(0);
    expect(stage.stats().tasks.inFlightCalls).toBe(0);
    const tree = stage.graph.taskJSON(id)!;
    expect(tree.calls.find((x) => x.calleeName === 'researcher')).toMatchObject({ status: 0 });
    expect(tree.calls.find((x) => x.calleeName === 'a')).toMatchObject({ decision: 'refused', reason: 'rate_limited' });
  });
});

describe('cost', () => {
  it('rolls up inclusively across 3 levels: own cost, task total and every ancestor', () => {
    const { stage, rec } = makeStage(makeConfig({ delegation: { costUnit: 'credits' } }));
    const l1 = call(stage, 'alice', 'orchestrator');
    const l2 = call(stage, 'orchestrator', 'researcher', l1.token);
    const l3 = call(stage, 'researcher', 'writer', l2.token);
    const l2b = call(stage, 'orchestrator', 'writer', l1.token);
    answer(stage, l3, 200, '1.5');
    answer(stage, l2, 200, '0.25');
    answer(stage, l2b, 200, '2');
    answer(stage, l1, 200, '0.125');
    const id = rootId(l1);
    const t = stage.graph.taskJSON(id)!;
    const byCallee = (caller: string, callee: string) => t.calls.find((c) => c.callerName === caller && c.calleeName === callee)!;
    expect(byCallee('researcher', 'writer')).toMatchObject({ cost: 1.5, costInclusive: 1.5 });
    expect(byCallee('orchestrator', 'researcher')).toMatchObject({ cost: 0.25, costInclusive: 1.75 });
    expect(byCallee('orchestrator', 'writer')).toMatchObject({ cost: 2, costInclusive: 2 });
    expect(byCallee('alice', 'orchestrator')).toMatchObject({ cost: 0.125, costInclusive: 3.875 });
    expect(t.totals.cost).toBe(3.875);
    expect(t.costUnit).toBe('credits');
    expect(stage.tasks.get(id)!.cost).toBe(3.875);
    // charged to the calling agent's account (alice is not an agent)
    expect(rec.costs).toEqual([
      ['researcher', 1.5],
      ['orchestrator', 0.25],
      ['orchestrator', 2],
      ['unregistered', 0.125],
    ]);
    expect(stage.windows.usage('orchestrator', stage.tasks.get(id)!.startedAt)?.costPerDay).toBe(2.25);
  });

  it('maxCost refuses further calls once the task has spent its budget', () => {
    const { stage, rec } = makeStage(makeConfig({ delegation: { task: { maxCost: 1 } } }));
    const root = call(stage, 'alice', 'orchestrator');
    const c2 = call(stage, 'orchestrator', 'researcher', root.token);
    answer(stage, c2, 200, '0.6');
    expect(call(stage, 'orchestrator', 'writer', root.token).refusal).toBeUndefined();
    const c3 = call(stage, 'orchestrator', 'a', root.token);
    // the writer call is still in flight; its answer pushes the task over
    const writer = stage.graph.taskJSON(rootId(root))!.calls.find((c) => c.calleeName === 'writer')!;
    expect(writer.status).toBeNull();
    answer(stage, c3, 200, '0.5');
    const over = call(stage, 'orchestrator', 'b', root.token);
    expect(over.refusal).toMatchObject({ status: 429, reason: 'task_cost', code: -32124 });
    expect(over.refusal!.message).toContain('maxCost 1');
    expect(rec.budgets).toContainEqual(['task', 'maxCost']);
  });

  it('ignores and counts a tollgate-cost that is not a non-negative finite number', () => {
    const { stage, rec } = makeStage(makeConfig());
    const root = call(stage, 'alice', 'orchestrator');
    for (const bad of ['-1', 'NaN', 'Infinity', '1e999', '0x10', '', 'ten', '1,5']) {
      const c = call(stage, 'orchestrator', 'researcher', root.token);
      answer(stage, c, 200, bad);
    }
    const arr = call(stage, 'orchestrator', 'researcher', root.token);
    // a repeated header reaches governance joined with ", " (as the gateway's exchange presents it)
    respond(stage, arr.ctx, 200, { 'tollgate-cost': '1, 2' });
    expect(stage.stats().invalidCostHeaders).toBe(9);
    expect(rec.invalidCosts).toHaveLength(9);
    expect(stage.tasks.get(rootId(root))!.cost).toBe(0);
    // surrounding spaces are fine
    const ok = call(stage, 'orchestrator', 'researcher', root.token);
    respond(stage, ok.ctx, 200, { 'tollgate-cost': ' 0.5 ' });
    expect(stage.tasks.get(rootId(root))!.cost).toBe(0.5);
  });
});

describe('per-agent windows', () => {
  it('callsPerMinute refuses with 429 and a Retry-After after which the call fits again', () => {
    const { stage, clock, rec } = makeStage(makeConfig({ agents: { orchestrator: { limits: { callsPerMinute: 3 } } } }));
    clock.set(Date.UTC(2025, 0, 1, 0, 0, 0)); // a minute boundary
    for (let i = 0; i < 3; i++) expect(call(stage, 'orchestrator', 'researcher').refusal).toBeUndefined();
    const r = call(stage, 'orchestrator', 'researcher').refusal!;
    expect(r).toMatchObject({ status: 429, reason: 'agent_calls_per_minute', code: -32130 });
    expect(r.message).toContain('callsPerMinute 3');
    expect(r.retryAfterSec).toBeGreaterThan(0);
    expect(rec.budgets).toEqual([['agent', 'callsPerMinute']]);
    // other agents are not affected
    expect(call(stage, 'researcher', 'writer').refusal).toBeUndefined();
    clock.advance(r.retryAfterSec! * 1000 - 1000);
    expect(call(stage, 'orchestrator', 'researcher').refusal?.reason).toBe('agent_calls_per_minute');
    clock.advance(1000);
    expect(call(stage, 'orchestrator', 'researcher').refusal).toBeUndefined();
  });

  it('sliding, not fixed: no double burst right after a window boundary', () => {
    const { stage, clock } = makeStage(makeConfig({ agents: { a: { limits: { callsPerMinute: 10 } } } }));
    clock.set(Date.UTC(2025, 0, 1, 0, 0, 50));
    for (let i = 0; i < 10; i++) expect(call(stage, 'a', 'b').refusal).toBeUndefined();
    clock.advance(15_000); // 5 s into the next fixed minute
    expect(call(stage, 'a', 'b').refusal?.reason).toBe('agent_calls_per_minute');
  });

  it('callsPerDay and costPerDay', () => {
    const { stage, clock } = makeStage(makeConfig({ agents: { a: { limits: { callsPerDay: 2, costPerDay: 1 } }, b: { limits: { costPerDay: 1 } } } }));
    expect(call(stage, 'a', 'c').refusal).toBeUndefined();
    expect(call(stage, 'a', 'c').refusal).toBeUndefined();
    expect(call(stage, 'a', 'c').refusal).toMatchObject({ reason: 'agent_calls_per_day', code: -32132 });
    const spend = call(stage, 'b', 'c');
    answer(stage, spend, 200, '1');
    const r = call(stage, 'b', 'c').refusal!;
    expect(r).toMatchObject({ reason: 'agent_cost_per_day', status: 429 });
    expect(r.retryAfterSec).toBeGreaterThan(0);
    clock.advance(2 * 86_400_000);
    expect(call(stage, 'b', 'c').refusal).toBeUndefined();
  });
});

describe('kill switch and context requirements', () => {
  it('cancelTask refuses every later call under the task at once, with 409', () => {
    const { stage } = makeStage(makeConfig());
    const root = call(stage, 'alice', 'orchestrator');
    const c2 = call(stage, 'orchestrator', 'researcher', root.token);
    const c3 = call(stage, 'researcher', 'writer', c2.token);
    const id = rootId(root);
    expect(stage.cancelTask(id)).toBe(true);
    for (const [from, to, tok] of [
      ['orchestrator', 'writer', root.token],
      ['researcher', 'a', c2.token],
      ['writer', 'b', c3.token],
    ] as const) {
      expect(call(stage, from, to, tok).refusal).toMatchObject({ status: 409, reason: 'context_cancelled', code: -32105 });
    }
    expect(stage.graph.taskJSON(id)!.cancelled).toBe(true);
    // other tasks are unaffected
    const other = call(stage, 'bob', 'orchestrator');
    expect(call(stage, 'orchestrator', 'writer', other.token).refusal).toBeUndefined();
    expect(stage.cancelTask('no-such-task')).toBe(false);
  });

  it('requireDelegationContext: the caller must send a context; a fresh root is refused 403 context_required', () => {
    const { stage } = makeStage(makeConfig({ agents: { researcher: { requireDelegationContext: true } } }));
    expect(call(stage, 'researcher', 'writer').refusal).toMatchObject({ status: 403, reason: 'context_required', code: -32107 });
    const root = call(stage, 'alice', 'orchestrator');
    const c2 = call(stage, 'orchestrator', 'researcher', root.token);
    expect(call(stage, 'researcher', 'writer', c2.token).refusal).toBeUndefined();
  });

  it.each([
    ['malformed', () => 'garbage', 400, 'context_malformed'],
    ['unknown key', (t: string) => t.replace(/^v2\.[^.]+\./, 'v2.nosuchkey.'), 403, 'context_unknown_key'],
    [
      'tampered',
      (t: string) => {
        const i = t.indexOf('.', 3) + 11;
        return t.slice(0, i) + (t[i] === 'x' ? 'y' : 'x') + t.slice(i + 1);
      },
      403,
      'context_bad_signature',
    ],
  ] as const)('the stage refuses a %s context with %i %s', (_n, mutate, status, reason) => {
    const { stage, rec } = makeStage(makeConfig());
    const root = call(stage, 'alice', 'orchestrator');
    const r = call(stage, 'orchestrator', 'researcher', mutate(root.token!)).refusal;
    expect(r).toMatchObject({ status, reason });
    expect(rec.refusals).toEqual([['orchestrator', 'researcher', reason]]);
  });

  it('an expired context is refused (context_expired)', () => {
    const { stage, clock } = makeStage(makeConfig({ delegation: { tokenTtl: '1m' } }));
    const root = call(stage, 'alice', 'orchestrator');
    clock.advance(60_000);
    expect(call(stage, 'orchestrator', 'researcher', root.token).refusal).toMatchObject({ status: 403, reason: 'context_expired' });
  });
});

describe('restarts and eviction', () => {
  it('a task from before a restart is adopted (keys persisted), one evicted here fails closed', () => {
    const config = makeConfig();
    const first = makeStage(config);
    const root = call(first.stage, 'alice', 'orchestrator');
    first.clock.advance(1000);
    // restart: same keys, fresh state
    const second = makeStage(config, first.clock, { keyring: first.keyring });
    const c2 = call(second.stage, 'orchestrator', 'researcher', root.token);
    expect(c2.refusal).toBeUndefined();
    expect(second.stage.tasks.get(rootId(root))).toMatchObject({ adopted: true, initiator: ID.alice });
    // depth/loop still hold for the adopted task: the chain travels in the token
    expect(call(second.stage, 'researcher', 'orchestrator', c2.token).refusal?.reason).toBe('loop');

    // eviction: a tiny registry, a task started here, pushed out by others
    const small = makeStage(config, first.clock, { keyring: first.keyring, maxTasks: 2 });
    const t1 = call(small.stage, 'alice', 'orchestrator');
    call(small.stage, 'bob', 'orchestrator');
    call(small.stage, 'bob', 'writer');
    answer(small.stage, t1);
    call(small.stage, 'bob', 'researcher');
    expect(small.stage.tasks.get(rootId(t1))).toBeUndefined();
    expect(call(small.stage, 'orchestrator', 'researcher', t1.token).refusal).toMatchObject({ status: 403, reason: 'context_task_unknown' });
  });

  it('fleet: a task started by another replica (same key ring) after this one booted is adopted; a loop across replicas is cut', () => {
    const config = makeConfig();
    const a = makeStage(config);
    const b = makeStage(config, a.clock, { keyring: a.keyring }); // both replicas up before the task starts
    a.clock.advance(1000);
    const c1 = call(a.stage, 'alice', 'orchestrator');
    const c2 = call(b.stage, 'orchestrator', 'researcher', c1.token);
    expect(c2.refusal).toBeUndefined();
    expect(b.stage.tasks.get(rootId(c1))).toMatchObject({ adopted: true, initiator: ID.alice });
    const c3 = call(a.stage, 'researcher', 'orchestrator', c2.token);
    expect(c3.refusal).toMatchObject({ status: 508, reason: 'loop' });

    // a task B started itself and then evicted still fails closed on B
    const small = makeStage(config, a.clock, { keyring: a.keyring, maxTasks: 1 });
    const own = call(small.stage, 'alice', 'orchestrator');
    answer(small.stage, own);
    call(small.stage, 'bob', 'writer');
    expect(small.stage.tasks.get(rootId(own))).toBeUndefined();
    expect(call(small.stage, 'orchestrator', 'researcher', own.token).refusal).toMatchObject({ reason: 'context_task_unknown' });
  });

  it('root task ids minted by the stage never start with "-" or "_" (they are pasted into command lines)', () => {
    const { stage } = makeStage(makeConfig());
    for (let i = 0; i < 2000; i++) expect(rootId(call(stage, 'alice', 'orchestrator'))).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
  });

  it('a cancelled adopted task stays cancelled while any pre-restart token may be valid', () => {
    const config = makeConfig({ delegation: { tokenTtl: '10m' } });
    const first = makeStage(config);
    const root = call(first.stage, 'alice', 'orchestrator');
    first.clock.advance(5 * 60_000);
    const later = call(first.stage, 'orchestrator', 'researcher', root.token); // expires 5 min after root.token
    first.clock.advance(60_000);
    const second = makeStage(config, first.clock, { keyring: first.keyring });
    // a refused call (a self-loop) still adopts the task, but issues no token that would keep it alive
    expect(call(second.stage, 'orchestrator', 'orchestrator', root.token).refusal?.reason).toBe('loop');
    expect(second.stage.tasks.get(rootId(root))?.adopted).toBe(true);
    expect(second.stage.cancelTask(rootId(root))).toBe(true);
    second.clock.advance(4 * 60_000 + 1); // root.token has expired, later.token has not
    second.stage.tick();
    expect(call(second.stage, 'researcher', 'writer', later.token).refusal?.reason).toBe('context_cancelled');
  });

  it('adoptAfterRestart: false refuses tasks from before the restart', () => {
    const config = makeConfig();
    const first = makeStage(config);
    const root = call(first.stage, 'alice', 'orchestrator');
    first.clock.advance(1000);
    const strict = makeStage(config, first.clock, { keyring: first.keyring, adoptAfterRestart: false });
    expect(call(strict.stage, 'orchestrator', 'researcher', root.token).refusal?.reason).toBe('context_task_unknown');
  });
});
