import { shortName } from '../../certs/spiffe-id.js';
import { taskBudgetRefusal, windowRefusal, type DelegationLimits } from './decide.js';
import { refuse, type Refusal } from './refusals.js';
import type { TaskState } from './tasks.js';
import type { DelegationContext } from './token.js';
import type { WindowVerdict } from './windows.js';

/**
 * A push notification (protocol/push.ts) is a callee reporting back to the agent that gave it the task, not
 * a delegation: the receiver is, by construction, already in the chain (orchestrator -> writer, then writer
 * pushes to orchestrator), so the loop and depth checks of decide() do not apply, and a push does not count
 * towards its parent call's fan-out or the task's concurrency (a long task may push many updates). It does
 * count against what bounds the task as a whole: the kill switch, the deadline, maxCalls, and the sender's
 * agent windows. Without a delegation context only the windows (and requireDelegationContext) apply.
 */
export interface DecidePushInput {
  now: number;
  /** the verified inbound context (issued to the sender for the call it reports on), or undefined */
  context: DelegationContext | undefined;
  caller: { id: string; name: string | undefined; requireDelegationContext: boolean };
  limits: DelegationLimits;
  /** the context's task (TaskRegistry.resolve), undefined if the context is absent or its task is unknown */
  task: TaskState | undefined;
  /** the sender's agent windows verdict, undefined if within limits or no limits */
  windows: WindowVerdict | undefined;
}

export type PushDecision = { allow: true } | { allow: false; refusal: Refusal };

const ALLOW: PushDecision = { allow: true };

/** Decide one push. Pure: reads only its input. */
export function decidePush(input: DecidePushInput): PushDecision {
  const { context: ctx, caller, limits, now, task } = input;
  if (!ctx) {
    if (caller.requireDelegationContext) {
      return {
        allow: false,
        refusal: refuse('context_required', `${caller.name ?? shortName(caller.id)} must send a tollgate-delegation context (requireDelegationContext)`, {
          caller: caller.id,
        }),
      };
    }
    return input.windows ? { allow: false, refusal: windowRefusal(input.windows, caller) } : ALLOW;
  }
  const base = { rootTaskId: ctx.rootTaskId, initiator: ctx.chain[0] };
  if (task?.cancelled) return { allow: false, refusal: refuse('context_cancelled', 'the task was cancelled: no further pushes are allowed under it', base) };
  if (now >= ctx.rootStartedAt + limits.deadlineMs) {
    return {
      allow: false,
      refusal: refuse('task_deadline', `task deadline exceeded: the task started ${Math.round((now - ctx.rootStartedAt) / 1000)}s ago`, {
        ...base,
        budget: 'deadline',
      }),
    };
  }
  if (!task) {
    return { allow: false, refusal: refuse('context_task_unknown', 'the delegation context names a task this gateway no longer tracks', base) };
  }
  if (task.calls >= limits.maxCalls) return { allow: false, refusal: taskBudgetRefusal('maxCalls', limits, base) };
  if (input.windows) return { allow: false, refusal: windowRefusal(input.windows, caller, base) };
  return ALLOW;
}
