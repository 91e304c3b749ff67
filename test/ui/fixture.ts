import { parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { KeyRing } from '../../governance/delegation/keys.js';
import { createDelegationStage, type DelegationCallHandle, type DelegationStage } from '../../governance/delegation/stage.js';
import { governedCall, respond, type TestCall } from '../delegation/helpers.js';
import type { Refusal } from '../../governance/delegation/refusals.js';
import { agentBudgets, createGraphSource, type LiveGraphSource } from '../../ui/source.js';

/**
 * A real delegation stage (real call graph, task trees, agent windows, signed contexts) for the graph page
 * tests, and the page's GraphSource over it. Calls go through beforeForward, onResponse and onComplete like the gateway's.
 */
import { ID, type Who } from '../delegation/helpers.js';
export { ID, type Who };

export interface Call {
  ctx: TestCall;
  refusal: Refusal | undefined;
  token: string | undefined;
}

export interface Fixture {
  config: Config;
  stage: DelegationStage;
  source: LiveGraphSource;
  /** `from` calls `to` presenting `inbound` (a context it received); the source is told */
  call(from: Who, to: Who, inbound?: string): Call;
  /** the upstream answered (with an optional tollgate-cost) */
  answer(c: Call, status?: number, cost?: number): void;
  /** the upstream failed without an answer: the caller got `status` (the gateway's 502/504), `error` says why */
  fail(c: Call, status: number, error: string): void;
  /** a call refused by a stage before delegation (policy, rate limits): only the aggregate and the refusal notes see it */
  deny(from: Who, to: Who, status: number, reason: string): void;
  /** alice -> orchestrator -> researcher -> orchestrator (cut with 508); returns the root task id */
  loopTask(): string;
}

export function makeFixture(now: () => number = Date.now): Fixture {
  const agents: Record<string, unknown> = {};
  let port = 9400;
  for (const name of ['orchestrator', 'researcher', 'writer'] as const) agents[name] = { url: `https://127.0.0.1:${port++}`, id: ID[name] };
  (agents.orchestrator as Record<string, unknown>).limits = { callsPerMinute: 30, costPerDay: 5 };
  (agents.researcher as Record<string, unknown>).limits = { callsPerMinute: 4 };
  const config = parseConfig({ agents, delegation: { costUnit: 'USD' } });
  const stage = createDelegationStage({ config, keyring: new KeyRing({ now, retentionMs: config.delegation.tokenTtl }), now });
  const source = createGraphSource({ graph: stage.graph, now, budgets: () => agentBudgets(stage.windows, config.agents, now()) });

  function call(from: Who, to: Who, inbound?: string): Call {
    let token: string | undefined;
    const ctx = governedCall({
      callerId: ID[from],
      callee: to,
      calleeId: ID[to],
      inbound,
      setUpstreamHeader: (n, v) => {
        if (n === 'tollgate-delegation') token = v;
      },
    });
    const refusal = stage.beforeForward(ctx);
    source.changed();
    return { ctx, refusal, token };
  }
  function answer(c: Call, status = 200, cost?: number): void {
    respond(stage, c.ctx, status, cost === undefined ? {} : { 'tollgate-cost': String(cost) });
    source.changed();
  }
  function fail(c: Call, status: number, error: string): void {
    c.ctx.status = status;
    c.ctx.error = error;
    stage.onComplete(c.ctx);
    source.changed();
  }
  function deny(from: Who, to: Who, status: number, reason: string): void {
    stage.onRefused(governedCall({ callerId: ID[from], callee: to, calleeId: ID[to] }), { status, reason });
    source.changed();
  }
  function loopTask(): string {
    const c1 = call('alice', 'orchestrator');
    const c2 = call('orchestrator', 'researcher', c1.token);
    const c3 = call('researcher', 'orchestrator', c2.token);
    if (c3.refusal?.reason !== 'loop') throw new Error(`expected the loop to be cut, got ${c3.refusal?.reason ?? 'no refusal'}`);
    answer(c2, 200, 0.25);
    answer(c1, 200, 0.5);
    return (c1.ctx.governance as DelegationCallHandle).rootTaskId!;
  }
  return { config, stage, source, call, answer, fail, deny, loopTask };
}
