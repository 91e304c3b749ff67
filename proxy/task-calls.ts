import type { Exchange } from './exchange.js';
import { CallCutError } from './upstream/engine.js';
import { StreamTaskIdReader, taskIdOfRequest } from './a2a/task-id.js';
import { upstreamPath } from './stages/route.js';

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
 * On the HTTP+JSON binding CancelTask is `POST .../tasks/{id}:cancel` beside the call's own REST path.
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
    if (agent === undefined) return false;
    let taskId = ex.a2aTaskId;
    let path = ex.upstreamPath;
    let body: string;
    if (ex.isRpc) {
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
      body = JSON.stringify({ jsonrpc: '2.0', id: `tollgate-cancel-${++cancelIds}`, method: v03 ? 'tasks/cancel' : 'CancelTask', params: { id: taskId } });
    } else {
      // HTTP+JSON: POST .../tasks/{id}:cancel beside the call's own path (same mount point, tenant, /v1 prefix)
      taskId ??= taskIdOfRequest(ex.method, undefined, ex.body, ex.rest);
      if (taskId === undefined) return false;
      const rest = restCancelPath(ex.rest, taskId);
      if (rest === undefined) return false;
      path = upstreamPath(agent.basePath, rest, '');
      body = '{}';
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-forwarded-client-cert': ex.xfcc };
    const own = ex.upstreamHeaders;
    for (let i = 0; i < own.length; i += 2) headers[own[i]] = own[i + 1];
    const version = ex.header('a2a-version');
    if (version !== undefined) headers['a2a-version'] = version;
    const callee = ex.callee;
    agent.upstream.fetch(path, headers, { method: 'POST', body: Buffer.from(body), maxBytes: 64 * 1024 }).then(
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

/** the REST calls the kill switch can find in flight: a message send or stream, a task subscription */
const REST_CALL = /\/(?:message:(?:send|stream)|tasks\/[^/]+:subscribe)\/?$/i;

/**
 * The HTTP+JSON path of CancelTask for `taskId`, beside a REST call's own path (relative to the agent's
 * route, as `rest`): what comes before the call's method segments (a mount point, a tenant, v0.3's `/v1`) is kept.
 */
export function restCancelPath(rest: string, taskId: string): string | undefined {
  const m = REST_CALL.exec(rest);
  if (m === null) return undefined;
  return `${rest.slice(0, m.index)}/tasks/${encodeURIComponent(taskId)}:cancel`;
}
