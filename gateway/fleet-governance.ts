/**
 * Fleet mode, part 2: the governance slot with Redis behind it. The delegation stage decides first, in
 * process (signature, chain, loop, depth, deadline, and its own counters: a replica sees a subset of a
 * task's calls, so its counts never exceed the fleet's and a local refusal is always a fleet refusal);
 * then ONE atomic Redis step checks and reserves what must be exact across replicas and workers: the
 * caller and edge buckets, the callee's concurrency cap, and the task's budgets and kill switch.
 *
 * The local rate limiter (proxy stage "limits") still runs first: on one replica it never refuses a call
 * the fleet would allow (same rates, a subset of the traffic), so it only filters obvious floods early.
 *
 * Redis unreachable or slower than redis.commandTimeout: the call is refused (503, reason
 * governance_unavailable): budgets and cancellations fail closed. `tollgate_governance_backend_up` shows it.
 */
import type { Config } from '../config/schema.js';
import { refusal, RPC_CODE, type Exchange, type Governance, type Refusal } from '../proxy/index.js';
import {
  COST_HEADER,
  budgetOf,
  parseCost,
  refuse,
  type DelegationCallHandle,
  type DelegationMetrics,
  type RefusalReason,
} from '../governance/delegation/index.js';
import type { FleetRefusalReason, Lease, RedisGovernance, ReserveRequest, WindowReason } from '../governance/fleet/redis-governance.js';
import type { GatewayLog } from '../control/gateway-identity.js';

export interface FleetGovernanceOptions {
  inner: Governance;
  fleet: RedisGovernance;
  config: () => Config;
  log: GatewayLog;
  /** the delegation core's metrics: fleet budget refusals are counted as its own are */
  metrics?: DelegationMetrics;
}

/** Reasons the proxy records as rate limiting (429 with Retry-After), like its own limits stage. */
export const FLEET_LIMIT_REASONS: ReadonlySet<string> = new Set(['caller', 'edge', 'concurrency']);

const UNAVAILABLE = refusal(
  503,
  RPC_CODE.unavailable,
  'governance_unavailable',
  'the gateway cannot reach its shared governance store (Redis) to check budgets and limits; the call was not forwarded: retry shortly',
  { retryAfterSec: 1, data: { reason: 'governance_unavailable' } },
);

function limitRefusal(reason: 'caller' | 'edge' | 'concurrency', callee: string, retryAfterMs: number): Refusal {
  const retry = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const what =
    reason === 'caller' ? 'your call rate' : reason === 'edge' ? `your call rate to agent "${callee}"` : `the number of calls in flight to agent "${callee}"`;
  return refusal(429, RPC_CODE.rateLimited, reason, `rate limited: ${what} is over the fleet-wide limit; retry after ${retry} s`, {
    retryAfterSec: retry,
    data: { limit: reason, retryAfterSec: retry, scope: 'fleet' },
  });
}

const WINDOW_REASONS = {
  callsPerMinute: 'agent_calls_per_minute',
  callsPerHour: 'agent_calls_per_hour',
  callsPerDay: 'agent_calls_per_day',
  costPerDay: 'agent_cost_per_day',
} as const;

function windowRefusal(budget: WindowReason, agent: string, limit: number, retryAfterMs: number): Refusal {
  const retry = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return refuse(
    WINDOW_REASONS[budget],
    `agent budget exhausted: ${agent} reached ${budget} ${limit} (fleet-wide); retry in ${retry}s`,
    { budget, limit, agent, scope: 'fleet' },
    retry,
  );
}

type BudgetReason = Exclude<FleetRefusalReason, 'caller' | 'edge' | 'concurrency' | WindowReason>;

function budgetRefusal(reason: BudgetReason, cfg: Config, rootTaskId: string, detail: string): Refusal {
  const t = cfg.delegation.task;
  const base = { rootTaskId, scope: 'fleet' };
  switch (reason) {
    case 'cancelled':
      return refuse('context_cancelled', 'the task was cancelled: no further calls are allowed under it', base);
    case 'max_calls':
      return refuse('task_max_calls', `task budget exhausted: maxCalls ${t.maxCalls} calls in this task (fleet-wide)`, {
        ...base,
        budget: 'maxCalls',
        limit: t.maxCalls,
      });
    case 'fan_out':
      return refuse('task_fan_out', `task budget exhausted: maxFanOut ${t.maxFanOut} calls from one call (fleet-wide)`, {
        ...base,
        budget: 'maxFanOut',
        limit: t.maxFanOut,
      });
    case 'task_concurrency':
      return refuse(
        'task_concurrency',
        `task budget exhausted: maxConcurrent ${t.maxConcurrent} calls in flight in this task (fleet-wide)`,
        { ...base, budget: 'maxConcurrent', limit: t.maxConcurrent },
        1,
      );
    case 'max_cost':
      return refuse('task_cost', `task budget exhausted: maxCost ${t.maxCost ?? 0} reached (spent ${detail}, fleet-wide)`, {
        ...base,
        budget: 'maxCost',
        limit: t.maxCost,
        spent: Number(detail),
      });
  }
}

export function fleetGovernance(o: FleetGovernanceOptions): Governance {
  const { inner, fleet } = o;
  const leases = new WeakMap<Exchange, Lease>();

  // registered agents with window limits, by SPIFFE ID: built once per config
  type Limited = { name: string; limits: NonNullable<Config['agents'][string]['limits']> };
  let agentsOf: { cfg: Config; byId: Map<string, Limited> } | undefined;
  const agentWithLimits = (cfg: Config, id: string): Limited | undefined => {
    if (agentsOf?.cfg !== cfg) {
      const byId = new Map<string, Limited>();
      for (const [name, a] of Object.entries(cfg.agents)) if (a.limits && !byId.has(a.id)) byId.set(a.id, { name, limits: a.limits });
      agentsOf = { cfg, byId };
    }
    return agentsOf.byId.get(id);
  };

  const request = (ex: Exchange, cfg: Config): ReserveRequest => {
    const h = ex.governance as DelegationCallHandle | undefined;
    const call = h?.call;
    const d = cfg.delegation;
    return {
      agent: agentWithLimits(cfg, ex.callerId),
      callerId: ex.callerId,
      callee: ex.callee,
      perCaller: cfg.rateLimits.perCaller,
      perEdge: cfg.rateLimits.perEdge,
      maxConcurrentPerCallee: cfg.rateLimits.maxConcurrentPerCallee,
      task:
        h?.rootTaskId === undefined || call === undefined
          ? undefined
          : {
              rootTaskId: h.rootTaskId,
              isNew: call.parentCallId === undefined,
              parentCallId: call.parentCallId,
              budget: { maxCalls: d.task.maxCalls, maxFanOut: d.task.maxFanOut, maxConcurrent: d.task.maxConcurrent, maxCost: d.task.maxCost },
              // a task's keys live while a token naming it can verify (a later one is expired or past the deadline)
              ttlMs: Math.min(d.tokenTtl, d.task.deadline) + 60_000,
            },
    };
  };

  const decide = async (ex: Exchange): Promise<Refusal | undefined> => {
    const first = await inner.beforeForward(ex);
    if (first !== undefined) return first;
    const cfg = o.config();
    const req = request(ex, cfg);
    let r;
    try {
      r = await fleet.reserve(req);
    } catch (err) {
      o.log.warn({ err, callee: ex.callee }, 'fleet governance unreachable: call refused (fail closed)');
      return UNAVAILABLE;
    }
    if (r.ok) {
      if (r.lease) leases.set(ex, r.lease);
      return undefined;
    }
    if (r.reason === 'caller' || r.reason === 'edge' || r.reason === 'concurrency') return limitRefusal(r.reason, ex.callee, r.retryAfterMs);
    const refusal =
      r.reason in WINDOW_REASONS
        ? windowRefusal(r.reason as WindowReason, req.agent?.name ?? '', req.agent?.limits[r.reason as WindowReason] ?? 0, r.retryAfterMs)
        : budgetRefusal(r.reason as BudgetReason, cfg, req.task?.rootTaskId ?? '', r.detail);
    o.metrics?.refusal(ex.callerAgent ?? 'unregistered', ex.callee, refusal.reason);
    const budget = budgetOf(refusal.reason as RefusalReason);
    if (budget) o.metrics?.budgetExhausted(budget.scope, budget.budget);
    return refusal;
  };

  const release = (ex: Exchange) => {
    const lease = leases.get(ex);
    if (lease === undefined) return;
    leases.delete(ex);
    fleet.release(lease);
  };

  return {
    beforeForward: decide,
    onResponse(ex) {
      inner.onResponse(ex);
      const h = ex.governance as DelegationCallHandle | undefined;
      const cost = parseCost(ex.responseHeader(COST_HEADER));
      if (h?.rootTaskId === undefined || cost === undefined || cost === 0) return;
      fleet
        .addCost(h.rootTaskId, cost, agentWithLimits(o.config(), ex.callerId)?.name)
        .catch((err: unknown) => o.log.warn({ err, rootTaskId: h.rootTaskId }, 'fleet governance: a task cost was not recorded'));
    },
    onRefused(ex, r) {
      release(ex);
      inner.onRefused(ex, r);
    },
    onComplete(ex) {
      release(ex);
      inner.onComplete(ex);
    },
  };
}
