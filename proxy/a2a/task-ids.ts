/**
 * Which A2A task a call names, and which task a response created. Pure: plain data in, ids out.
 *
 * A request names a task in one of three places, read the way @a2a-js/sdk's handlers read it (the agent
 * runs what the SDK reads, so the gateway must check the same id):
 *   - JSON-RPC GetTask / CancelTask / SubscribeToTask (and v0.3 tasks/get, cancel, resubscribe): params.id;
 *     v1.0 push-config methods: params.taskId (proto JSON also accepts task_id); v0.3 tasks/pushNotificationConfig/
 *     set: params.taskId, get / list / delete: params.id;
 *   - SendMessage / SendStreamingMessage continuing a task: message.taskId (JSON-RPC params.message, REST body.message);
 *   - REST: the path segment after `tasks` (`/tasks/{id}`, `{id}:cancel`, `{id}:subscribe`, `{id}/pushNotificationConfigs…`),
 *     percent-decoded as express decodes route parameters.
 * A response names the task it created or answered for: a v1.0 `{task}` / `{message}` / `{statusUpdate}` /
 * `{artifactUpdate}` (JSON-RPC `result`, REST body, each SSE event), or a v0.3 object with `kind`
 * (`task`: its `id`; `message`, `status-update`, `artifact-update`: their `taskId`).
 */
export interface TaskRef {
  /** '' when none */
  taskId: string;
  /** '' when none */
  contextId: string;
}

/** Methods whose request always names a task. */
const TASK_METHODS = new Set([
  'GetTask',
  'CancelTask',
  'SubscribeToTask',
  'CreateTaskPushNotificationConfig',
  'GetTaskPushNotificationConfig',
  'ListTaskPushNotificationConfigs',
  'DeleteTaskPushNotificationConfig',
]);

/** Does a call of this canonical method name (or may name) a task? ListTasks is filtered, not checked. */
export function namesTask(method: string): boolean {
  return TASK_METHODS.has(method) || method === 'SendMessage' || method === 'SendStreamingMessage';
}

export function isMessageMethod(method: string): boolean {
  return method === 'SendMessage' || method === 'SendStreamingMessage';
}

/**
 * Can a whole answer name a task? Every shape that does has "task" in it (`task`, `taskId`, kind "task"),
 * as the callee writes it (an escaped key would only make its own task unknown). A byte loop: a native
 * indexOf costs more per call than this does on a ~200-byte answer.
 */
export function mentionsTask(b: Uint8Array): boolean {
  for (let i = 3, n = b.length; i < n; i++) {
    // "task": look for the k, then the three bytes before it
    if (b[i] === 0x6b && b[i - 1] === 0x73 && b[i - 2] === 0x61 && b[i - 3] === 0x74) return true;
  }
  return false;
}

/** A proto-JSON string field as the SDK's fromJSON reads it: the camelCase key if set, else the snake_case one. */
function field(o: Record<string, unknown>, camel: string, snake: string): string {
  const v = o[camel] ?? o[snake];
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the SDK's fromJSON reads String(value): so must we
  return v === undefined || v === null ? '' : String(v);
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The task and context a message names (v0.3 or v1.0 shape). */
export function messageRef(message: unknown): TaskRef {
  const m = obj(message);
  if (m === undefined) return NONE;
  return { taskId: field(m, 'taskId', 'task_id'), contextId: field(m, 'contextId', 'context_id') };
}

export const NONE: TaskRef = Object.freeze({ taskId: '', contextId: '' });

/**
 * The task a JSON-RPC request names. `rawMethod` is the method as sent: a v0.3 name (with '/') reads the
 * v0.3 parameter shapes, anything else the v1.0 ones.
 */
export function rpcRequestRef(method: string, rawMethod: string, params: unknown): TaskRef {
  const p = obj(params);
  if (p === undefined) return NONE;
  const v03 = rawMethod.includes('/');
  switch (method) {
    case 'SendMessage':
    case 'SendStreamingMessage':
      return messageRef(p.message);
    case 'GetTask':
    case 'CancelTask':
    case 'SubscribeToTask':
      return { taskId: field(p, 'id', 'id'), contextId: '' };
    case 'CreateTaskPushNotificationConfig':
      return { taskId: field(p, 'taskId', 'task_id'), contextId: '' };
    case 'GetTaskPushNotificationConfig':
    case 'ListTaskPushNotificationConfigs':
    case 'DeleteTaskPushNotificationConfig':
      return { taskId: v03 ? field(p, 'id', 'id') : field(p, 'taskId', 'task_id'), contextId: '' };
    default:
      return NONE;
  }
}

/** The task a REST request names: from its path (task methods) or its body's message (SendMessage). */
export function restRequestRef(method: string, rest: string, body: unknown): TaskRef {
  if (isMessageMethod(method)) return messageRef(obj(body)?.message);
  if (!TASK_METHODS.has(method)) return NONE;
  const segs = rest.split('/');
  let n = segs.length;
  if (n > 0 && segs[n - 1] === '') n--;
  let seg: string;
  switch (method) {
    case 'GetTask':
      seg = segs[n - 1];
      break;
    case 'CancelTask':
      seg = segs[n - 1].slice(0, -':cancel'.length);
      break;
    case 'SubscribeToTask':
      seg = segs[n - 1].slice(0, -':subscribe'.length);
      break;
    case 'CreateTaskPushNotificationConfig':
    case 'ListTaskPushNotificationConfigs':
      seg = segs[n - 2];
      break;
    default: // Get / Delete: tasks/{id}/pushNotificationConfigs/{configId}
      seg = segs[n - 3];
  }
  return { taskId: decodeSegment(seg ?? ''), contextId: '' };
}

/** A path segment as express decodes a route parameter (an undecodable one stays as it is: the agent refuses it). */
export function decodeSegment(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The task a response (or one stream event) is about: `v` is a JSON-RPC response (its `result` is read)
 * or a REST body. Returns NONE for errors and for messages that belong to no task.
 */
export function responseRef(v: unknown): TaskRef {
  let r = obj(v);
  if (r === undefined) return NONE;
  if (r.jsonrpc === '2.0') {
    r = obj(r.result);
    if (r === undefined) return NONE;
  }
  const task = obj(r.task);
  if (task !== undefined) return { taskId: field(task, 'id', 'id'), contextId: field(task, 'contextId', 'context_id') };
  const inner = obj(r.message) ?? obj(r.statusUpdate) ?? obj(r.artifactUpdate) ?? obj(r.status_update) ?? obj(r.artifact_update);
  if (inner !== undefined) return messageRef(inner);
  switch (r.kind) {
    case 'task':
      return { taskId: field(r, 'id', 'id'), contextId: field(r, 'contextId', 'context_id') };
    case 'message':
    case 'status-update':
    case 'artifact-update':
      return messageRef(r);
    default:
      return NONE;
  }
}

/** The tasks of a ListTasks response (JSON-RPC `result.tasks` or REST `tasks`), with the object that holds them. */
export function listedTasks(v: unknown): { holder: Record<string, unknown>; tasks: unknown[] } | undefined {
  let r = obj(v);
  if (r === undefined) return undefined;
  if (r.jsonrpc === '2.0') r = obj(r.result);
  if (r === undefined || !Array.isArray(r.tasks)) return undefined;
  return { holder: r, tasks: r.tasks as unknown[] };
}

/** A listed task's id ('' when it has none). */
export function listedTaskId(t: unknown): string {
  const o = obj(t);
  return o === undefined ? '' : field(o, 'id', 'id');
}

/**
 * Server-sent events, scanned as they pass: `push` a chunk, get back the first event's task (or NONE while
 * none has named one). Only whole events are parsed (an event ends at a blank line); a partial one waits
 * for the next chunk. Events are parsed one by one and only until one names a task: all the events of one
 * stream belong to one task. An event longer than `maxEvent` bytes is skipped, not held.
 */
export class SseTaskScanner {
  private pending: Buffer | undefined = undefined;
  private skipping = false;

  constructor(private readonly maxEvent = 1024 * 1024) {}

  push(chunk: Buffer): TaskRef {
    let buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    for (;;) {
      const end = eventEnd(buf);
      if (end < 0) break;
      const ev = buf.subarray(0, end);
      buf = buf.subarray(end + blankLength(buf, end));
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      const ref = eventRef(ev);
      if (ref.taskId !== '') return ref;
    }
    if (buf.length > this.maxEvent) {
      this.skipping = true; // the rest of this event is dropped up to its end
      return NONE;
    }
    if (buf.length > 0) this.pending = Buffer.from(buf); // a copy: the chunk is the caller's
    return NONE;
  }
}

/** Index of the first blank line ("\n\n", "\r\n\r\n" or "\r\r") ending an event, or -1. */
function eventEnd(b: Buffer): number {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0x0a && b[i + 1] === 0x0a) return i;
    if (c === 0x0d && b[i + 1] === 0x0a && b[i + 2] === 0x0d && b[i + 3] === 0x0a) return i;
    if (c === 0x0d && b[i + 1] === 0x0d) return i;
  }
  return -1;
}
function blankLength(b: Buffer, at: number): number {
  return b[at] === 0x0d && b[at + 1] === 0x0a ? 4 : 2;
}

/** The task of one SSE event: its `data:` lines joined by "\n" (the SSE rule), parsed as JSON. */
export function eventRef(ev: Buffer): TaskRef {
  const text = ev.toString('utf8');
  let data: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data')) continue;
    let v = line.slice(4);
    if (v !== '' && !v.startsWith(':')) continue; // another field whose name starts with "data"
    v = v.slice(1);
    if (v.startsWith(' ')) v = v.slice(1);
    data = data === undefined ? v : `${data}\n${v}`;
  }
  if (data === undefined) return NONE;
  try {
    return responseRef(JSON.parse(data));
  } catch {
    return NONE;
  }
}
