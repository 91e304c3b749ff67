import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ctx, ExtraStages } from '../context.js';
import { refusal, RPC_CODE, writeRefusal, type Refusal } from '../errors.js';
import { callerResponseHeaders, FlatHeaders } from '../headers.js';
import type { Runtime, CompiledAgent } from '../runtime.js';
import type { ForwardJob } from '../upstream/engine.js';
import { classifyUpstreamError, type UpstreamErrorKind } from '../upstream/identity.js';
import type { Recorder } from './record.js';

/**
 * Stage "forward": hand the call to the agent's upstream pool and stream the answer back. This file holds
 * what happens around the engine: response headers (filter, latency, afterResponse hook), the end of the
 * call (release the concurrency slot, map failures to 502/504, record).
 */
export function upstreamFailure(kind: UpstreamErrorKind, callee: string): Refusal {
  switch (kind) {
    case 'timeout':
      return refusal(504, RPC_CODE.gatewayTimeout, 'timeout', `agent "${callee}" did not answer in time`);
    case 'refused':
      return refusal(502, RPC_CODE.badGateway, 'refused', `agent "${callee}" is unreachable (connection refused)`);
    case 'reset':
      return refusal(502, RPC_CODE.badGateway, 'reset', `agent "${callee}" closed the connection`);
    case 'identity':
      return refusal(502, RPC_CODE.badGateway, 'identity', `agent "${callee}" did not present its registered identity; the gateway refused to talk to it`);
    default:
      return refusal(502, RPC_CODE.badGateway, 'other', `the call to agent "${callee}" failed`);
  }
}

const EVENT_STREAM = 'text/event-stream';

export class ForwardCall implements ForwardJob {
  streaming = false;
  private status = 0;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly headers: string[],
    readonly body: Buffer | undefined,
    readonly res: ServerResponse,
    readonly req: IncomingMessage,
    private readonly ctx: Ctx,
    private readonly rt: Runtime,
    private readonly agent: CompiledAgent,
    private readonly recorder: Recorder,
    private readonly stages: ExtraStages,
    private readonly t0: number,
    private readonly done: () => void,
  ) {}

  onResponse(status: number, raw: readonly (Buffer | string)[]): string[] {
    this.status = status;
    const headers = callerResponseHeaders(raw);
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] === 'content-type' && headers[i + 1].startsWith(EVENT_STREAM)) this.streaming = true;
    }
    const seconds = (performance.now() - this.t0) / 1000;
    this.recorder.latency(this.ctx.callee, this.ctx.method, seconds);
    if (this.stages.afterResponse !== undefined) {
      try {
        this.stages.afterResponse(this.ctx, { status, headers: new FlatHeaders(headers), durationUs: Math.round(seconds * 1e6) });
      } catch {
        // a failing observer must not break a call that already succeeded upstream
      }
    }
    return headers;
  }

  onEnd(bytesOut: number, error: unknown): void {
    this.rt.limiter.release(this.agent.name);
    const ctx = this.ctx;
    const durationUs = Math.round((performance.now() - this.t0) * 1000);
    const bytesIn = ctx.body === undefined ? 0 : ctx.body.length;
    let status = this.status;
    let reason = 'ok';
    let errorKind: string | undefined;
    if (error !== undefined) {
      if ((error as { code?: string }).code === 'ERR_TOLLGATE_CLIENT_ABORT') {
        errorKind = 'client_abort';
        reason = 'client_abort';
        if (status === 0) status = 499; // nginx's "client closed request": nothing was sent
      } else {
        const kind = classifyUpstreamError(error);
        errorKind = kind;
        reason = kind;
        this.recorder.upstreamError(ctx.callee, kind);
        if (status === 0) {
          const r = upstreamFailure(kind, ctx.callee);
          status = r.status;
          bytesOut = writeRefusal(this.res, r, ctx.rpcId);
        }
      }
    }
    const decision = errorKind === undefined || errorKind === 'client_abort' ? 'allow' : 'error';
    this.recorder.call(ctx.callerName, ctx.callerId, ctx.callee, ctx.callee, ctx.method, decision, reason, status, bytesIn, bytesOut, durationUs, ctx.traceId);
    if (this.stages.onComplete !== undefined) {
      try {
        this.stages.onComplete(ctx, { status, durationUs, bytesOut, error: errorKind });
      } catch {
        // observers cannot change the outcome
      }
    }
    this.done();
  }
}
