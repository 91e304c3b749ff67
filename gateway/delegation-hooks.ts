/**
 * Glue between the proxy's stage slot (proxy/context.ts ExtraStages) and the delegation core
 * (governance/delegation/stage.ts), plus the side effects of a finished call that live outside the proxy:
 * events for `ctl watch` and a change signal for the live page. Everything here runs per request, so it
 * allocates one small object per call and nothing when nobody watches.
 */
import type { ExtraStages, RequestContext } from '../proxy/context.js';
import type { Refusal } from '../proxy/errors.js';
import type { DelegationCtx, DelegationStage } from '../governance/delegation/index.js';
import { DELEGATION_HEADER } from '../governance/delegation/index.js';
import type { EventBus } from '../control/admin/index.js';

const kDelegation = Symbol('tollgate.delegation');
type WithDelegation = RequestContext & { [kDelegation]?: DelegationCtx };

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The delegation stage's view of a request, created once per call and kept on the request context. A class
 * rather than an object literal with a setUpstreamHeader closure: one allocation per call instead of two.
 */
class HookCtx implements DelegationCtx {
  readonly callerId: string;
  readonly callerName: string | undefined;
  readonly calleeName: string;
  readonly calleeId: string;
  readonly method: string;
  readonly inboundDelegation: string | undefined;
  readonly traceparent: string | undefined;
  delegation: DelegationCtx['delegation'] = undefined;
  constructor(private readonly ctx: RequestContext) {
    this.callerId = ctx.callerId;
    this.callerName = ctx.callerAgent;
    this.calleeName = ctx.callee;
    this.calleeId = ctx.calleeAgent.id;
    this.method = ctx.method;
    this.inboundDelegation = header(ctx.headers[DELEGATION_HEADER]);
    this.traceparent = header(ctx.headers.traceparent);
  }
  setUpstreamHeader(name: string, value: string): void {
    this.ctx.setUpstreamHeader(name, value);
  }
}

function delegationCtx(ctx: RequestContext): DelegationCtx {
  const c = ctx as WithDelegation;
  let d = c[kDelegation];
  if (d === undefined) {
    d = new HookCtx(ctx);
    c[kDelegation] = d;
  }
  return d;
}

export interface HookOptions {
  stage: DelegationStage;
  events: EventBus;
  /** the live page's change signal */
  changed?: () => void;
}

export function delegationHooks(opts: HookOptions): ExtraStages {
  const { stage, events, changed } = opts;
  return {
    beforeForward(ctx) {
      const r = stage.beforeForward(delegationCtx(ctx));
      if (r === undefined) return undefined;
      const out: Refusal = { status: r.status, code: r.code, reason: r.reason, message: r.message, data: r.data };
      if (r.retryAfterS !== undefined) out.retryAfterSec = r.retryAfterS;
      return out;
    },
    afterResponse(ctx, res) {
      // cost is charged when the headers arrive (a stream may run long); the call ends in onComplete
      stage.onResponseHeaders(delegationCtx(ctx), res);
    },
    onRefused(ctx, refusal) {
      stage.onRefused(delegationCtx(ctx), refusal);
      changed?.();
      if (events.subscribers > 0) {
        const d = (ctx as WithDelegation)[kDelegation]?.delegation;
        events.publish({
          time: Date.now(),
          kind: 'refusal',
          actor: ctx.callerId,
          agent: ctx.callee,
          summary: `${ctx.callerName} -> ${ctx.callee} ${ctx.method} refused ${refusal.status} ${refusal.reason}: ${refusal.message}`,
          data: { status: refusal.status, reason: refusal.reason, method: ctx.method, rootTaskId: d?.rootTaskId, refusal: refusal.data },
        });
      }
    },
    onComplete(ctx, outcome) {
      const d = delegationCtx(ctx);
      stage.onFinished(d, outcome.error ? 0 : outcome.status);
      changed?.();
      if (events.subscribers > 0) {
        events.publish({
          time: Date.now(),
          kind: 'call',
          actor: ctx.callerId,
          agent: ctx.callee,
          summary: `${ctx.callerName} -> ${ctx.callee} ${ctx.method} ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''} ${Math.round(outcome.durationUs / 1000)} ms`,
          data: { status: outcome.status, method: ctx.method, durationUs: outcome.durationUs, error: outcome.error, rootTaskId: d.delegation?.rootTaskId },
        });
      }
    },
  };
}
