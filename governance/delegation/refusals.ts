import type { Refusal as SharedRefusal } from '../../protocol/refusal.js';

/**
 * Every way the delegation stage refuses a call, with its HTTP status and JSON-RPC error code.
 *
 * JSON-RPC codes live in -32100…-32199, outside A2A's -32001…-32099 block:
 *   -32100…-32109  the delegation context itself (malformed, forged, expired, borrowed, cancelled, missing)
 *   -32110…-32119  runaway delegation: loop (-32110), depth (-32111)
 *   -32120…-32129  per root task budgets
 *   -32130…-32139  per agent windows
 *   -32140…-32149  chain-aware policy (-32140) and attenuation: a call outside the delegated scope (-32141),
 *                  a malformed `tollgate-scope` header (-32142)
 *
 * HTTP status choices:
 *   400 a header that is not a context at all; 403 a context we won't honour (forged, unknown key, expired,
 *   borrowed, evicted task) or a missing one that is required;
 *   409 the task was cancelled (kill switch): the request is fine, the task's state forbids it, retrying never helps;
 *   508 Loop Detected for a loop AND for depth: an over-deep chain is a runaway delegation of the same kind,
 *       and a retry can never succeed (429 would invite one);
 *   429 budgets (task and agent), with Retry-After where waiting helps (concurrency, agent windows).
 */
export type RefusalReason =
  | 'context_malformed'
  | 'context_bad_signature'
  | 'context_unknown_key'
  | 'context_expired'
  | 'context_not_yours'
  | 'context_cancelled'
  | 'context_task_unknown'
  | 'context_required'
  | 'loop'
  | 'depth'
  | 'task_max_calls'
  | 'task_fan_out'
  | 'task_concurrency'
  | 'task_deadline'
  | 'task_cost'
  | 'agent_calls_per_minute'
  | 'agent_calls_per_hour'
  | 'agent_calls_per_day'
  | 'agent_cost_per_day'
  | 'chain_not_allowed'
  | 'scope_exceeded'
  | 'scope_malformed';

export const REFUSAL_TABLE: Readonly<Record<RefusalReason, { status: number; code: number }>> = {
  context_malformed: { status: 400, code: -32100 },
  context_bad_signature: { status: 403, code: -32101 },
  context_unknown_key: { status: 403, code: -32102 },
  context_expired: { status: 403, code: -32103 },
  context_not_yours: { status: 403, code: -32104 },
  context_cancelled: { status: 409, code: -32105 },
  context_task_unknown: { status: 403, code: -32106 },
  context_required: { status: 403, code: -32107 },
  loop: { status: 508, code: -32110 },
  depth: { status: 508, code: -32111 },
  task_max_calls: { status: 429, code: -32120 },
  task_fan_out: { status: 429, code: -32121 },
  task_concurrency: { status: 429, code: -32122 },
  task_deadline: { status: 429, code: -32123 },
  task_cost: { status: 429, code: -32124 },
  agent_calls_per_minute: { status: 429, code: -32130 },
  agent_calls_per_hour: { status: 429, code: -32131 },
  agent_calls_per_day: { status: 429, code: -32132 },
  agent_cost_per_day: { status: 429, code: -32133 },
  chain_not_allowed: { status: 403, code: -32140 },
  scope_exceeded: { status: 403, code: -32141 },
  scope_malformed: { status: 400, code: -32142 },
};

/** A governance refusal: the shared Refusal (protocol/refusal.ts) with a reason from the table above. */
export interface Refusal extends SharedRefusal {
  readonly reason: RefusalReason;
  /** JSON-RPC error `data` */
  readonly data: Record<string, unknown>;
}

export function refuse(reason: RefusalReason, message: string, data: Record<string, unknown> = {}, retryAfterSec?: number): Refusal {
  const { status, code } = REFUSAL_TABLE[reason];
  return retryAfterSec === undefined
    ? { status, code, reason, message, data: { reason, ...data } }
    : { status, code, reason, message, data: { reason, ...data }, retryAfterSec };
}

/** Which budget a refusal exhausted (for tollgate_budget_exhausted_total), or undefined for non-budget refusals. */
export function budgetOf(reason: RefusalReason): { scope: 'task' | 'agent'; budget: string } | undefined {
  switch (reason) {
    case 'task_max_calls':
      return { scope: 'task', budget: 'maxCalls' };
    case 'task_fan_out':
      return { scope: 'task', budget: 'maxFanOut' };
    case 'task_concurrency':
      return { scope: 'task', budget: 'maxConcurrent' };
    case 'task_deadline':
      return { scope: 'task', budget: 'deadline' };
    case 'task_cost':
      return { scope: 'task', budget: 'maxCost' };
    case 'agent_calls_per_minute':
      return { scope: 'agent', budget: 'callsPerMinute' };
    case 'agent_calls_per_hour':
      return { scope: 'agent', budget: 'callsPerHour' };
    case 'agent_calls_per_day':
      return { scope: 'agent', budget: 'callsPerDay' };
    case 'agent_cost_per_day':
      return { scope: 'agent', budget: 'costPerDay' };
    default:
      return undefined;
  }
}
