/**
 * The governance slot of the proxy (proxy/governance.ts), filled by the delegation core
 * (governance/delegation/stage.ts), plus the side effects of a call that live outside both: events for
 * `ctl watch` and a change signal for the live page. The exchange is the delegation core's GovernedCall
 * as it is; nothing is allocated per call here unless somebody watches.
 */
import type { Exchange, Governance, TaskCalls } from '../proxy/index.js';
import type { DelegationCallHandle, DelegationStage } from '../governance/delegation/index.js';
import type { EventBus } from '../control/admin/index.js';
import { UpstreamFailureLog, type FailureLog } from './upstream-failures.js';

export interface GovernanceOptions {
  stage: DelegationStage;
  events: EventBus;
  /** the live page's change signal */
  changed?: () => void;
  /** the injected clock (event times) */
  now: () => number;
  /** the kill switch's register of calls in flight per root task (only calls under a delegation context) */
  calls?: TaskCalls;
  /** application log: upstream failures (throttled per callee and kind) */
  log?: FailureLog;
}

function rootTaskOf(ex: Exchange): string | undefined {
  return (ex.governance as DelegationCallHandle | undefined)?.rootTaskId;
}

export function governanceSlot(opts: GovernanceOptions): Governance {
  const { stage, events, changed, now, calls } = opts;
  const failures = opts.log && new UpstreamFailureLog(opts.log, now);
  return {
    beforeForward: (ex) => {
      const r = stage.beforeForward(ex);
      // the ids the audit line carries, so it joins the call tree (set for refusals by this stage too)
      const h = ex.governance as DelegationCallHandle | undefined;
      if (h !== undefined) {
        ex.rootTaskId = h.rootTaskId;
        ex.callId = h.callId;
        // a call with a parent was made under a delegation context: the kill switch can reach it
        if (r === undefined && calls !== undefined && h.call?.parentCallId !== undefined) calls.track(ex, h.rootTaskId!);
      }
      return r;
    },
    onResponse: (ex) => {
      stage.onResponse(ex);
    },
    onRefused(ex, refusal) {
      calls?.untrack(ex);
      stage.onRefused(ex, refusal);
      changed?.();
      if (events.subscribers > 0) {
        events.publish({
          time: now(),
          kind: 'refusal',
          actor: ex.callerId,
          agent: ex.callee,
          summary: `${ex.callerName} -> ${ex.callee} ${ex.method} refused ${refusal.status} ${refusal.reason}: ${refusal.message}`,
          data: { status: refusal.status, reason: refusal.reason, method: ex.method, rootTaskId: rootTaskOf(ex), refusal: refusal.data },
        });
      }
    },
    onComplete(ex) {
      calls?.untrack(ex);
      stage.onComplete(ex);
      changed?.();
      if (ex.error !== undefined && ex.error !== 'client_abort' && failures !== undefined) {
        failures.failed({
          caller: ex.callerId,
          callee: ex.callee,
          calleeId: ex.calleeId,
          method: ex.method,
          status: ex.status,
          kind: ex.error,
          rootTaskId: ex.rootTaskId,
          callId: ex.callId,
        });
      }
      if (events.subscribers > 0) {
        events.publish({
          time: now(),
          kind: 'call',
          actor: ex.callerId,
          agent: ex.callee,
          summary: `${ex.callerName} -> ${ex.callee} ${ex.method} ${ex.status}${ex.error ? ` (${ex.error})` : ''} ${Math.round(ex.durationUs / 1000)} ms`,
          data: { status: ex.status, method: ex.method, durationUs: ex.durationUs, error: ex.error, rootTaskId: rootTaskOf(ex) },
        });
      }
    },
  };
}
