import { shortName } from '../../certs/spiffe-id.js';
import type { KeyLookup } from './keys.js';
import { refuse, type Refusal, type RefusalReason } from './refusals.js';
import { describePath } from './describe.js';
import { checkChain } from './chain-policy.js';
import { narrowScope, scopeViolation, type Scope } from './scope.js';
import type { ChainRule } from '../../config/schema.js';
import type { TaskState } from './tasks.js';
import { encodeHop, openContext, type ContextPayload, type DelegationContext } from './token.js';
import type { IssuedContexts } from './issued.js';
import type { WindowVerdict } from './windows.js';

export type VerifyResult = { ok: true; context: DelegationContext } | { ok: false; reason: RefusalReason; detail: string };

/**
 * Verify an inbound `tollgate-delegation` header for the caller that presented it: format, key, MAC, expiry,
 * and that the caller is the last hop (a context is only usable by the agent it was issued to, so a context
 * leaked to or borrowed by another agent is refused). `issued`: tokens this gateway signed recently; one
 * found there (under a key still in the ring) skips the MAC and the decoding (issued.ts says why that is sound).
 */
export function verifyContext(token: string, callerId: string, now: number, keyring: KeyLookup, issued?: IssuedContexts): VerifyResult {
  let c = issued?.get(token);
  if (c === undefined || keyring.get(c.kid) === undefined) {
    const r = openContext(token, keyring);
    if (!r.ok) return r;
    c = r.context;
  }
  if (now >= c.expiresAt)
    return { ok: false, reason: 'context_expired', detail: `the delegation context expired ${Math.round((now - c.expiresAt) / 1000)}s ago` };
  if (c.chain[c.chain.length - 1] !== callerId) {
    return {
      ok: false,
      reason: 'context_not_yours',
      detail: `the delegation context was issued to ${shortName(c.chain[c.chain.length - 1])}, not to the caller`,
    };
  }
  return { ok: true, context: c };
}

const VERIFY_MESSAGES: Partial<Record<RefusalReason, string>> = {
  context_malformed: 'malformed delegation context',
  context_bad_signature: 'invalid delegation context signature',
  context_unknown_key: 'delegation context signed with an unknown key',
  context_expired: 'delegation context expired',
  context_not_yours: 'delegation context presented by an agent it was not issued to',
};

/** The refusal for a failed verifyContext. */
export function refusalForVerify(v: Extract<VerifyResult, { ok: false }>): Refusal {
  return refuse(v.reason, `${VERIFY_MESSAGES[v.reason] ?? 'delegation context refused'}: ${v.detail}`);
}

/** Limits taken from config at load (config delegation.*), durations in ms. */
export interface DelegationLimits {
  maxDepth: number;
  tokenTtlMs: number;
  maxCalls: number;
  maxFanOut: number;
  maxConcurrent: number;
  deadlineMs: number;
  maxCost: number | undefined;
}

export interface DecideInput {
  now: number;
  /** the verified inbound context, or undefined when the caller sent none */
  context: DelegationContext | undefined;
  caller: { id: string; name: string | undefined; requireDelegationContext: boolean };
  callee: { name: string; id: string; maxRevisits: number };
  limits: DelegationLimits;
  /** the context's task (TaskRegistry.resolve), undefined if the context is absent or its task is unknown */
  task: TaskState | undefined;
  /** TaskRegistry.fanOutOf(task, context.callId), 0 without a context */
  parentFanOut: number;
  /** the caller's agent windows verdict (AgentWindows.check), undefined if within limits or no limits */
  windows: WindowVerdict | undefined;
  /** canonical A2A method of the call (for a delegated scope's method list) */
  method?: string;
  /** set when only rules with a chain condition allow the call (the proxy's authorize stage) */
  chainRules?: readonly ChainRule[];
  /** the scope the caller asked for its delegate (a parsed `tollgate-scope` header), if any */
  scope?: Scope;
  /** ids for the new call and, when no context came in, the new root task */
  newCallId: string;
  newRootTaskId: () => string;
}

export type Decision = { allow: true; newRoot: boolean; child: ContextPayload } | { allow: false; refusal: Refusal };

export { describePath };

function no(refusal: Refusal): Decision {
  return { allow: false, refusal };
}

function countOf(chain: readonly string[], id: string): number {
  let n = 0;
  for (let i = 0; i < chain.length; i++) if (chain[i] === id) n++;
  return n;
}

/**
 * Decide one call. Pure: reads only its input. Order matters:
 *  1. context required but missing;  2. kill switch (cancelled);  3. loop, 4. depth, 5. deadline — these three
 *  are checked from the token alone, so they hold even for an evicted or adopted task; 6. task unknown
 *  (evicted: fail closed);  7. task budgets;  8. the caller's agent windows.
 * Loop comes before budgets so a runaway delegation is reported as the loop it is.
 */
export function decide(input: DecideInput): Decision {
  const { context: ctx, caller, callee, limits, now } = input;

  if (!ctx) {
    if (caller.requireDelegationContext) {
      return no(
        refuse('context_required', `${caller.name ?? shortName(caller.id)} must send a tollgate-delegation context (requireDelegationContext)`, {
          caller: caller.id,
        }),
      );
    }
    if (input.chainRules !== undefined) {
      const r = checkChain(input.chainRules, [caller.id], callee.name);
      if (r !== undefined) return no(r);
    }
    if (callee.id === caller.id && callee.maxRevisits < 1) {
      return no(loopRefusal([caller.id], caller.id, callee.id, undefined));
    }
    if (input.windows) return no(windowRefusal(input.windows, caller));
    const root = input.newRootTaskId();
    return {
      allow: true,
      newRoot: true,
      child: {
        rootTaskId: root,
        chain: [caller.id, callee.id],
        callId: input.newCallId,
        depth: 1,
        rootStartedAt: now,
        issuedAt: now,
        expiresAt: now + limits.tokenTtlMs,
        ...(input.scope !== undefined ? { scope: input.scope } : {}),
      },
    };
  }

  const task = input.task;
  const base = { rootTaskId: ctx.rootTaskId, initiator: ctx.chain[0] };
  if (input.chainRules !== undefined) {
    const r = checkChain(input.chainRules, ctx.chain, callee.name);
    if (r !== undefined) return no({ ...r, data: { ...r.data, rootTaskId: ctx.rootTaskId } });
  }
  if (task?.cancelled) return no(refuse('context_cancelled', 'the task was cancelled: no further calls are allowed under it', base));

  if (countOf(ctx.chain, callee.id) > callee.maxRevisits) return no(loopRefusal(ctx.chain, caller.id, callee.id, ctx.rootTaskId));

  const depth = ctx.depth + 1;
  if (depth > limits.maxDepth) {
    return no(
      refuse('depth', `delegation too deep: ${depth} hops exceeds maxDepth ${limits.maxDepth} (${describePath([...ctx.chain, callee.id])})`, {
        ...base,
        chain: [...ctx.chain, callee.id],
        maxDepth: limits.maxDepth,
      }),
    );
  }

  if (now >= ctx.rootStartedAt + limits.deadlineMs) {
    return no(
      refuse(
        'task_deadline',
        `task deadline exceeded: the task started ${Math.round((now - ctx.rootStartedAt) / 1000)}s ago, deadline ${Math.round(limits.deadlineMs / 1000)}s`,
        { ...base, budget: 'deadline' },
      ),
    );
  }

  if (!task) {
    return no(refuse('context_task_unknown', 'the delegation context names a task this gateway no longer tracks; start a new task', base));
  }

  if (task.calls >= limits.maxCalls) return no(taskBudgetRefusal('maxCalls', limits, base));
  if (input.parentFanOut >= limits.maxFanOut) return no(taskBudgetRefusal('maxFanOut', limits, { ...base, parentCallId: ctx.callId }));
  if (task.inFlight >= limits.maxConcurrent) return no(taskBudgetRefusal('maxConcurrent', limits, base));
  if (limits.maxCost !== undefined && task.cost >= limits.maxCost) return no(taskBudgetRefusal('maxCost', limits, base, task.cost));
  if (input.windows) return no(windowRefusal(input.windows, caller, base));
  if (ctx.scope !== undefined) {
    const v = scopeViolation(ctx.scope, callee.name, input.method ?? '', now, task.cost);
    if (v !== undefined) return no(refuse('scope_exceeded', v, { ...base, scope: ctx.scope.text }));
  }

  const chain = ctx.chain.slice();
  chain.push(callee.id);
  const child: ContextPayload = {
    rootTaskId: ctx.rootTaskId,
    chain,
    callId: input.newCallId,
    depth,
    rootStartedAt: ctx.rootStartedAt,
    issuedAt: now,
    expiresAt: now + limits.tokenTtlMs,
  };
  const scope = narrowScope(ctx.scope, input.scope);
  if (scope !== undefined) (child as { scope?: Scope }).scope = scope;
  if (ctx.chainText !== undefined) {
    // the parent's encoded chain plus one hop: signing need not re-encode the whole chain
    (child as { chainText?: string }).chainText = `${ctx.chainText}~${encodeHop(ctx.chain[ctx.chain.length - 1], callee.id)}`;
  }
  return { allow: true, newRoot: false, child };
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function loopRefusal(chain: readonly string[], callerId: string, calleeId: string, rootTaskId: string | undefined): Refusal {
  // the cycle: from the callee's first appearance in the chain, back to the callee
  const cycle = [...chain.slice(chain.indexOf(calleeId)), calleeId];
  return refuse('loop', `delegation loop detected: ${describePath(cycle)}`, {
    cycle,
    chain: [...chain, calleeId],
    ...(rootTaskId !== undefined ? { rootTaskId } : {}),
    initiator: chain[0],
    closingEdge: { from: callerId, to: calleeId },
  });
}

const WINDOW_REASON = {
  callsPerMinute: 'agent_calls_per_minute',
  callsPerHour: 'agent_calls_per_hour',
  callsPerDay: 'agent_calls_per_day',
  costPerDay: 'agent_cost_per_day',
} as const;

export type TaskBudget = 'maxCalls' | 'maxFanOut' | 'maxConcurrent' | 'maxCost';

/**
 * A root task's budget exhausted: this gateway's counts (decide), or the fleet's (gateway/fleet-governance.ts,
 * with `scope: 'fleet'` in `base`).
 */
export function taskBudgetRefusal(budget: TaskBudget, limits: Pick<DelegationLimits, TaskBudget>, base: Record<string, unknown>, spent = 0): Refusal {
  const data = { ...base, budget, limit: limits[budget] };
  switch (budget) {
    case 'maxCalls':
      return refuse('task_max_calls', `task budget exhausted: maxCalls ${limits.maxCalls} calls in this task`, data);
    case 'maxFanOut':
      return refuse('task_fan_out', `task budget exhausted: maxFanOut ${limits.maxFanOut} calls from one call`, data);
    case 'maxConcurrent':
      return refuse('task_concurrency', `task budget exhausted: maxConcurrent ${limits.maxConcurrent} calls in flight in this task`, data, 1);
    case 'maxCost':
      return refuse('task_cost', `task budget exhausted: maxCost ${limits.maxCost ?? 0} reached (spent ${round(spent)})`, { ...data, spent });
  }
}

/** An agent window exhausted (also the fleet-wide check's answer: gateway/fleet-governance.ts). */
export function windowRefusal(v: WindowVerdict, caller: { id: string; name: string | undefined }, base: Record<string, unknown> = {}): Refusal {
  const who = caller.name ?? shortName(caller.id);
  return refuse(
    WINDOW_REASON[v.budget],
    `agent budget exhausted: ${who} reached ${v.budget} ${v.limit}; retry in ${v.retryAfterSec}s`,
    { ...base, budget: v.budget, limit: v.limit, agent: who },
    v.retryAfterSec,
  );
}
