import { describe, expect, it } from 'vitest';
import { decide, type DecideInput } from '../../governance/delegation/decide.js';
import { REFUSAL_TABLE } from '../../governance/delegation/refusals.js';
import type { TaskState } from '../../governance/delegation/tasks.js';
import type { DelegationContext } from '../../governance/delegation/token.js';
import { ID } from './helpers.js';

const NOW = 1_000_000;
const limits = { maxDepth: 4, tokenTtlMs: 60_000, maxCalls: 10, maxFanOut: 3, maxConcurrent: 5, deadlineMs: 600_000, maxCost: 2 };

function ctx(chain: string[], over: Partial<DelegationContext> = {}): DelegationContext {
  return {
    rootTaskId: 'root',
    chain,
    callId: 'parent',
    depth: chain.length - 1,
    rootStartedAt: NOW - 1000,
    issuedAt: NOW - 10,
    expiresAt: NOW + 1000,
    kid: 'k',
    ...over,
  };
}

function task(over: Partial<TaskState> = {}): TaskState {
  return {
    rootTaskId: 'root',
    initiator: ID.alice,
    startedAt: NOW - 1000,
    adopted: false,
    calls: 1,
    inFlight: 1,
    cost: 0,
    cancelled: false,
    expiresAt: NOW + 1000,
    deadlineAt: NOW + 599_000,
    fanOut: undefined,
    ...over,
  };
}

function input(over: Partial<DecideInput> = {}): DecideInput {
  return {
    now: NOW,
    context: ctx([ID.alice, ID.orchestrator]),
    caller: { id: ID.orchestrator, name: 'orchestrator', requireDelegationContext: false },
    callee: { name: 'researcher', id: ID.researcher, maxRevisits: 0 },
    limits,
    task: task(),
    parentFanOut: 0,
    windows: undefined,
    newCallId: 'new-call',
    newRootTaskId: () => 'new-root',
    ...over,
  };
}

describe('decide (pure)', () => {
  it('allows and builds the child context: chain + callee, depth + 1, new call id, same root and start', () => {
    const d = decide(input());
    expect(d).toEqual({
      allow: true,
      newRoot: false,
      child: {
        rootTaskId: 'root',
        chain: [ID.alice, ID.orchestrator, ID.researcher],
        callId: 'new-call',
        depth: 2,
        rootStartedAt: NOW - 1000,
        issuedAt: NOW,
        expiresAt: NOW + 60_000,
      },
    });
  });

  it('starts a root task for a call without context; the caller is the initiator', () => {
    const d = decide(
      input({
        context: undefined,
        task: undefined,
        caller: { id: ID.alice, name: undefined, requireDelegationContext: false },
        callee: { name: 'orchestrator', id: ID.orchestrator, maxRevisits: 0 },
      }),
    );
    expect(d).toMatchObject({
      allow: true,
      newRoot: true,
      child: { rootTaskId: 'new-root', chain: [ID.alice, ID.orchestrator], depth: 1, rootStartedAt: NOW },
    });
  });

  it('checks in a fixed order: cancelled before loop before depth before deadline before unknown task before budgets', () => {
    const loopy = ctx([ID.alice, ID.researcher, ID.orchestrator, ID.a, ID.b]); // depth 4 = maxDepth, callee researcher revisits
    const late = NOW - limits.deadlineMs - 1;
    const all = {
      context: { ...loopy, rootStartedAt: late },
      task: task({ cancelled: true, calls: 99, cost: 99 }),
      parentFanOut: 99,
      caller: { id: ID.b, name: 'b', requireDelegationContext: false },
    };
    const reasons: string[] = [];
    const steps: Partial<DecideInput>[] = [
      all,
      { ...all, task: task({ calls: 99, cost: 99 }) },
      { ...all, task: task({ calls: 99, cost: 99 }), callee: { name: 'writer', id: ID.writer, maxRevisits: 0 } },
      {
        ...all,
        context: { ...ctx([ID.alice, ID.orchestrator, ID.b]), rootStartedAt: late },
        callee: { name: 'writer', id: ID.writer, maxRevisits: 0 },
        task: task({ calls: 99 }),
      },
      { context: ctx([ID.alice, ID.orchestrator]), task: undefined },
      { task: task({ calls: 10 }) },
      { parentFanOut: 3 },
      { task: task({ inFlight: 5 }) },
      { task: task({ cost: 2 }) },
      { windows: { budget: 'callsPerHour', limit: 5, used: 5, retryAfterSec: 60 } },
    ];
    for (const s of steps) {
      const d = decide(input(s));
      reasons.push(d.allow ? 'allow' : d.refusal.reason);
    }
    expect(reasons).toEqual([
      'context_cancelled',
      'loop',
      'depth',
      'task_deadline',
      'context_task_unknown',
      'task_max_calls',
      'task_fan_out',
      'task_concurrency',
      'task_cost',
      'agent_calls_per_hour',
    ]);
  });

  it('agent window refusals carry Retry-After and name the budget', () => {
    const d = decide(input({ windows: { budget: 'callsPerHour', limit: 5, used: 5, retryAfterSec: 60 } }));
    expect(d.allow).toBe(false);
    if (!d.allow) {
      expect(d.refusal).toMatchObject({ status: 429, retryAfterSec: 60, data: { budget: 'callsPerHour', limit: 5, agent: 'orchestrator' } });
      expect(d.refusal.message).toContain('callsPerHour 5');
    }
  });

  it('JSON-RPC codes are unique and outside the A2A range', () => {
    const codes = Object.values(REFUSAL_TABLE).map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) {
      expect(c).toBeLessThanOrEqual(-32100);
      expect(c).toBeGreaterThanOrEqual(-32199);
    }
  });
});
