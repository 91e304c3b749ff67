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
import { limitRefusal, refusal, RPC_CODE, type Exchange, type Governance, type Refusal } from '../proxy/index.js';
import {
  COST_HEADER,
  budgetOf,
  parseCost,
  refuse,
  taskBudgetRefusal,
  windowRefusal,
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

const UNAVAILABLE = refusal(
  503,
  RPC_CODE.unavailable,
  'governance_unavailable',
  'the gateway cannot reach its shared governance store (Redis) to check budgets and limits; the call was not forwarded: retry shortly',
  { retryAfterSec: 1, data: { reason: 'governance_unavailable' } },
);

const WINDOWS: ReadonlySet<string> = new Set<WindowReason>(['callsPerMinute', 'callsPerHour', 'callsPerDay', 'costPerDay']);

type BudgetReason = Exclude<FleetRefusalReason, 'caller' | 'edge' | 'concurrency' | WindowReason>;

const TASK_BUDGETS = { max_calls: 'maxCalls', fan_out: 'maxFanOut', task_concurrency: 'maxConcurrent', max_cost: 'maxCost' } as const;

function budgetRefusal(reason: BudgetReason, cfg: Config, rootTaskId: string, detail: string): Refusal {
  const base = { rootTaskId, scope: 'fleet' };
  if (reason === 'cancelled') return refuse('context_cancelled', 'the task was cancelled: no further calls are allowed under it', base);
  const t = cfg.delegation.task;
  return taskBudgetRefusal(TASK_BUDGETS[reason], { ...t, maxCost: t.maxCost }, base, Number(detail));
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

  // the in-process decision first; it is synchronous for the delegation stage, so it is not awaited then
  // (a microtask turn less per governed call)
  const decide = (ex: Exchange): Refusal | undefined | Promise<Refusal | undefined> => {
    const first = inner.beforeForward(ex);
    if (first === undefined) return reserve(ex);
    if (typeof (first as Promise<unknown>).then !== 'function') return first;
    return (first as Promise<Refusal | undefined>).then((f) => f ?? reserve(ex));
  };

  const reserve = async (ex: Exchange): Promise<Refusal | undefined> => {
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
    if (r.reason === 'caller' || r.reason === 'edge' || r.reason === 'concurrency') return limitRefusal(r.reason, ex.callee, r.retryAfterMs / 1000, 'fleet');
    const refusal = WINDOWS.has(r.reason)
      ? windowRefusal(
          {
            budget: r.reason as WindowReason,
            limit: req.agent?.limits[r.reason as WindowReason] ?? 0,
            used: Number(r.detail),
            retryAfterSec: Math.max(1, Math.ceil(r.retryAfterMs / 1000)),
          },
          { id: ex.callerId, name: req.agent?.name },
          { scope: 'fleet' },
        )
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
