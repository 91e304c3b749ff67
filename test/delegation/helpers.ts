import { parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { KeyRing } from '../../governance/delegation/keys.js';
import {
  createDelegationStage,
  type DelegationCallHandle,
  type GovernedCall,
  type DelegationStage,
  type DelegationStageOptions,
} from '../../governance/delegation/stage.js';
import type { Refusal } from '../../governance/delegation/refusals.js';

export const TD = 'spiffe://tollgate.local';
export const ID = {
  alice: `${TD}/user/alice`,
  bob: `${TD}/user/bob`,
  orchestrator: `${TD}/agent/orchestrator`,
  researcher: `${TD}/agent/researcher`,
  writer: `${TD}/agent/writer`,
  a: `${TD}/agent/a`,
  b: `${TD}/agent/b`,
  c: `${TD}/agent/c`,
} as const;
export type Who = keyof typeof ID;

/** A fake clock: tests move time explicitly. */
export function fakeClock(start = Date.UTC(2025, 0, 1)) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}

type AgentOverrides = Partial<Record<Who, Record<string, unknown>>>;

/** Config with every agent of ID registered (except the users), plus overrides. */
export function makeConfig(over: { agents?: AgentOverrides; delegation?: Record<string, unknown>; graph?: Record<string, unknown> } = {}): Config {
  const agents: Record<string, unknown> = {};
  let port = 9000;
  for (const name of ['orchestrator', 'researcher', 'writer', 'a', 'b', 'c'] as const) {
    agents[name] = { url: `https://127.0.0.1:${port++}`, id: ID[name], ...(over.agents?.[name] ?? {}) };
  }
  return parseConfig({ agents, delegation: over.delegation ?? {}, graph: over.graph ?? {} });
}

export interface Recorded {
  refusals: [string, string, string][];
  loopCuts: [string, string][];
  cycles: number[];
  budgets: [string, string][];
  costs: [string, number][];
  invalidCosts: string[];
  warnings: [object, string][];
}

export function makeStage(config: Config, clock = fakeClock(), extra: Partial<DelegationStageOptions> = {}) {
  const rec: Recorded = { refusals: [], loopCuts: [], cycles: [], budgets: [], costs: [], invalidCosts: [], warnings: [] };
  const keyring = extra.keyring ?? new KeyRing({ now: clock.now, retentionMs: config.delegation.tokenTtl });
  const stage = createDelegationStage({
    config,
    keyring,
    now: clock.now,
    metrics: {
      refusal: (a, b, r) => rec.refusals.push([a, b, r]),
      loopCut: (a, b) => rec.loopCuts.push([a, b]),
      cycles: (n) => rec.cycles.push(n),
      budgetExhausted: (s, b) => rec.budgets.push([s, b]),
      cost: (a, n) => rec.costs.push([a, n]),
      invalidCost: (c) => rec.invalidCosts.push(c),
    },
    log: { warn: (o, m) => rec.warnings.push([o, m]) },
    ...extra,
  });
  return { stage, clock, keyring, rec };
}

/** A GovernedCall as the gateway's exchange would present it: tests set `status` and response headers. */
export interface TestCall extends GovernedCall {
  status: number;
  error: string | undefined;
  responseHeaders: Record<string, string>;
}

export function governedCall(c: {
  callerId: string;
  callee: string;
  calleeId: string;
  method?: string;
  callerAgent?: string;
  inbound?: string;
  traceparent?: string;
  scope?: string;
  chainRules?: GovernedCall['chainRules'];
  setUpstreamHeader?: (name: string, value: string) => void;
}): TestCall {
  const call: TestCall = {
    callerId: c.callerId,
    callerAgent: c.callerAgent,
    callee: c.callee,
    calleeId: c.calleeId,
    method: c.method ?? 'message/send',
    status: 0,
    error: undefined,
    responseHeaders: {},
    chainRules: c.chainRules,
    header: (name) => (name === 'tollgate-delegation' ? c.inbound : name === 'traceparent' ? c.traceparent : name === 'tollgate-scope' ? c.scope : undefined),
    responseHeader: (name) => call.responseHeaders[name],
    setUpstreamHeader: c.setUpstreamHeader ?? (() => {}),
    governance: undefined,
  };
  return call;
}

/** The upstream answered: its response headers arrive (cost charged), then the call ends. */
export function respond(stage: DelegationStage, call: TestCall, status: number, headers: Record<string, string> = {}): void {
  call.status = status;
  call.responseHeaders = headers;
  stage.onResponse(call);
  stage.onComplete(call);
}

export interface CallResult {
  ctx: TestCall;
  refusal: Refusal | undefined;
  /** outbound tollgate-delegation (what the callee receives) */
  token: string | undefined;
  traceparent: string | undefined;
}

/** One call through the stage: `from` calls `to`, presenting `inbound` (a token it received earlier). */
export function call(
  stage: DelegationStage,
  from: Who,
  to: Who,
  inbound?: string,
  opts: { traceparent?: string; method?: string; callerId?: string; scope?: string; chainRules?: GovernedCall['chainRules'] } = {},
): CallResult {
  const headers = new Map<string, string>();
  const ctx = governedCall({
    callerId: opts.callerId ?? ID[from],
    callee: to,
    calleeId: ID[to],
    method: opts.method,
    inbound,
    traceparent: opts.traceparent,
    scope: opts.scope,
    chainRules: opts.chainRules,
    setUpstreamHeader: (n, v) => headers.set(n, v),
  });
  const refusal = stage.beforeForward(ctx);
  return { ctx, refusal, token: headers.get('tollgate-delegation'), traceparent: headers.get('traceparent') };
}

/** The upstream answered with `status` and an optional tollgate-cost header. */
export function answer(stage: DelegationStage, r: CallResult, status = 200, cost?: string): void {
  respond(stage, r.ctx, status, cost === undefined ? {} : { 'tollgate-cost': cost });
}

/** The root task id of an allowed call. */
export function rootId(r: CallResult): string {
  const id = (r.ctx.governance as DelegationCallHandle | undefined)?.rootTaskId;
  if (id === undefined) throw new Error('the call has no root task (refused before its task was known?)');
  return id;
}
