/**
 * The callee's A2A task id of a call in flight, as far as the kill switch needs it (proxy/task-calls.ts):
 * the gateway sends CancelTask for that id to the callee. A small local reader, only for calls tracked
 * under a root task; it knows two places:
 *  - the request: `params.message.taskId` (SendMessage, SendStreamingMessage: a message for an existing
 *    task), `params.id` (GetTask, CancelTask, SubscribeToTask); on the REST binding `/tasks/{id}:subscribe`
 *    or the body's `message.taskId`;
 *  - an event stream's events until one names the task: v1.0 `{task:{id}}`, `{statusUpdate:{taskId}}`,
 *    `{artifactUpdate:{taskId}}`, `{message:{taskId}}`; v0.3 `{kind:"task",id}`, `{kind:"status-update",
 *    taskId}`, ...; inside a JSON-RPC envelope (`result`) or bare (REST).
 * Pure; nothing here runs for calls that are not tracked.
 */

const MAX_ID = 1024;
/** bytes of a stream read before giving up on finding a task id in it */
const MAX_SCAN = 256 * 1024;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The task id a request names, from its JSON-RPC params (or its REST body) and, on REST, its path. */
export function taskIdOfRequest(method: string, rpc: Record<string, unknown> | undefined, restBody: Buffer | undefined, rest: string): string | undefined {
  let params: Record<string, unknown> | undefined;
  if (rpc !== undefined) params = obj(rpc.params);
  else {
    const m = /\/tasks\/([^/?]+):subscribe(?:\?|$)/i.exec(rest);
    if (m !== null) {
      try {
        return str(decodeURIComponent(m[1]));
      } catch {
        return undefined;
      }
    }
    if (restBody === undefined) return undefined;
    try {
      params = obj(JSON.parse(restBody.toString('utf8')));
    } catch {
      return undefined;
    }
  }
  if (params === undefined) return undefined;
  if (method === 'SendMessage' || method === 'SendStreamingMessage') return str(obj(params.message)?.taskId);
  return str(params.id);
}

/** The task id one stream event (its JSON) names, v1.0 or v0.3, enveloped or bare. */
export function taskIdOfEvent(event: unknown): string | undefined {
  const e = obj(event);
  if (e === undefined) return undefined;
  const r = e.jsonrpc === '2.0' ? obj(e.result) : e;
  if (r === undefined) return undefined;
  const v1 = str(obj(r.task)?.id) ?? str(obj(r.statusUpdate)?.taskId) ?? str(obj(r.artifactUpdate)?.taskId) ?? str(obj(r.message)?.taskId);
  if (v1 !== undefined) return v1;
  return r.kind === 'task' ? str(r.id) : str(r.taskId);
}

/** Reads an SSE body chunk by chunk until an event names a task (or it has read MAX_SCAN bytes). */
export class StreamTaskIdReader {
  private text = '';
  private read = 0;
  done = false;

  /** Returns the task id once found (then done), else undefined. */
  push(chunk: Buffer): string | undefined {
    if (this.done) return undefined;
    this.read += chunk.length;
    this.text += chunk.toString('utf8');
    let end: number;
    while ((end = this.eventEnd()) >= 0) {
      const block = this.text.slice(0, end);
      this.text = this.text.slice(end).replace(/^(\r?\n)+/, '');
      let data = '';
      for (const line of block.split(/\r?\n/)) if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line[5] === ' ' ? 6 : 5);
      if (data === '') continue;
      let id: string | undefined;
      try {
        id = taskIdOfEvent(JSON.parse(data));
      } catch {
        id = undefined;
      }
      if (id !== undefined) {
        this.finish();
        return id;
      }
    }
    if (this.read > MAX_SCAN) this.finish();
    return undefined;
  }

  private eventEnd(): number {
    const a = this.text.indexOf('\n\n');
    const b = this.text.indexOf('\r\n\r\n');
    if (a < 0) return b;
    return b < 0 ? a : Math.min(a, b);
  }

  private finish(): void {
    this.done = true;
    this.text = '';
  }
}
