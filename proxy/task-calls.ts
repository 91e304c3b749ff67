import type { Exchange } from './exchange.js';
import { CallCutError } from './upstream/engine.js';
import { StreamTaskIdReader, taskIdOfRequest } from './a2a/task-id.js';

/**
 * The kill switch's view of the data plane: which calls of each root task are in flight on this process,
 * so cancelling the task (tollgate ctl task cancel) can
 *  (a) end each of them: a call still waiting for its answer gets 409 `task_cancelled`, an open event stream
 *      ends with a closing JSON-RPC error event; the audit line's reason is `task_cancelled`;
 *  (b) ask each callee to stop the work: A2A CancelTask (JSON-RPC, the caller's protocol version) for the
 *      callee's task id, through that agent's normal upstream (mTLS with the gateway's SVID), carrying the
 *      call's own XFCC and delegation context, so the callee sees it from the same caller, in the same task.
 *
 * Only calls made under a delegation context are tracked (governance tells: gateway/governance-slot.ts),
 * and nothing is read from their bodies until a cancel: a call that starts a root task costs nothing here.
 * The callee's task id comes from the request (message.taskId, params.id: read at cancel time) or, for a
 * SendStreamingMessage, from the first stream event that names it (a2a/task-id.ts). A blocking SendMessage
 * for a new task has no id until it answers: it is ended, but no CancelTask can name its task.
 * CancelTask goes to JSON-RPC calls only; a REST (HTTP+JSON) call is ended without one.
 */
export interface CancelSent {
  callee: string;
  taskId: string;
  /** HTTP status of the callee's answer (undefined: it failed) */
  status: number | undefined;
  /** the JSON-RPC error the callee answered with, or the failure */
  error: string | undefined;
}

export interface TaskCallsOptions {
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** told the outcome of every CancelTask sent */
  onCancelSent?: (r: CancelSent) => void;
}

export interface CancelOutcome {
  /** calls in flight here that were ended */
  ended: number;
  /** CancelTask requests sent (their answers arrive later: onCancelSent) */
  cancelsSent: number;
}

let cancelIds = 0;

export class TaskCalls {
  private readonly byTask = new Map<string, Set<Exchange>>();

  constructor(private readonly opts: TaskCallsOptions = {}) {}

  /** Track a call allowed under a delegation context, until untrack (the call ended or was refused later). */
  track(ex: Exchange, rootTaskId: string): void {
    ex.trackedTask = rootTaskId;
    let set = this.byTask.get(rootTaskId);
    if (set === undefined) this.byTask.set(rootTaskId, (set = new Set()));
    set.add(ex);
    // a new streaming task is named by its first events; the request names every other one
    if (ex.method === 'SendStreamingMessage') {
      ex.taskIdReader = new StreamTaskIdReader();
      ex.tapBody = true;
    }
  }

  untrack(ex: Exchange): void {
    const k = ex.trackedTask;
    if (k === undefined) return;
    ex.trackedTask = undefined;
    ex.taskIdReader = undefined;
    ex.tapBody = ex.tap !== undefined;
    const set = this.byTask.get(k);
    if (set === undefined) return;
    set.delete(ex);
    if (set.size === 0) this.byTask.delete(k);
  }

  /** calls tracked now (all tasks) */
  size(): number {
    let n = 0;
    for (const s of this.byTask.values()) n += s.size;
    return n;
  }

  /** The kill switch: end every call of the task in flight here and ask each callee to cancel its task. */
  cancel(rootTaskId: string): CancelOutcome {
    const set = this.byTask.get(rootTaskId);
    if (set === undefined) return { ended: 0, cancelsSent: 0 };
    let ended = 0;
    let cancelsSent = 0;
    for (const ex of [...set]) {
      // CancelTask first: the callee hears of it even if ending the stream closes the connection to it
      if (this.sendCancel(ex)) cancelsSent++;
      const call = ex.engineCall;
      if (call !== undefined) {
        call.cut(new CallCutError('task_cancelled', undefined, rootTaskId));
        ended++;
      }
    }
    return { ended, cancelsSent };
  }

  private sendCancel(ex: Exchange): boolean {
    const agent = ex.agent;
    if (!ex.isRpc || agent === undefined) return false;
    let taskId = ex.a2aTaskId;
    let rpc: Record<string, unknown> | undefined;
    try {
      rpc = ex.rpc;
      taskId ??= taskIdOfRequest(ex.method, rpc, undefined, ex.rest);
    } catch {
      return false;
    }
    if (taskId === undefined) return false;
    // the caller's protocol version: a v0.3 method name (message/stream) gets tasks/cancel
    const v03 = typeof rpc?.method === 'string' && rpc.method.includes('/');
    const body = JSON.stringify({ jsonrpc: '2.0', id: `tollgate-cancel-${++cancelIds}`, method: v03 ? 'tasks/cancel' : 'CancelTask', params: { id: taskId } });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-forwarded-client-cert': ex.xfcc };
    const own = ex.upstreamHeaders;
    for (let i = 0; i < own.length; i += 2) headers[own[i]] = own[i + 1];
    const version = ex.header('a2a-version');
    if (version !== undefined) headers['a2a-version'] = version;
    const callee = ex.callee;
    agent.upstream.fetch(ex.upstreamPath, headers, { method: 'POST', body: Buffer.from(body), maxBytes: 64 * 1024 }).then(
      (r) => {
        let error: string | undefined;
        try {
          const e = (JSON.parse(r.body.toString('utf8')) as { error?: { message?: unknown } }).error;
          if (e !== undefined) error = typeof e.message === 'string' ? e.message : 'error';
        } catch {
          error = r.status >= 300 ? `HTTP ${r.status}` : undefined;
        }
        if (error === undefined) this.opts.log?.info({ callee, taskId }, `kill switch: agent "${callee}" cancelled its task ${taskId}`);
        else this.opts.log?.warn({ callee, taskId, status: r.status, error }, `kill switch: agent "${callee}" did not cancel its task ${taskId}: ${error}`);
        this.opts.onCancelSent?.({ callee, taskId, status: r.status, error });
      },
      (err: unknown) => {
        const error = (err as Error).message;
        this.opts.log?.warn({ callee, taskId, error }, `kill switch: CancelTask to agent "${callee}" failed: ${error}`);
        this.opts.onCancelSent?.({ callee, taskId, status: undefined, error });
      },
    );
    return true;
  }
}
