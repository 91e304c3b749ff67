import type { Exchange } from '../exchange.js';
import { refusal, RPC_CODE, type Refusal } from '../errors.js';
import type { ResponseTap } from '../upstream/engine.js';
import type { TaskOwners } from '../a2a/task-owners.js';
import {
  isMessageMethod,
  listedTaskId,
  listedTasks,
  mentionsTask,
  namesTask,
  NONE,
  responseRef,
  restRequestRef,
  rpcRequestRef,
  SseTaskScanner,
  type TaskRef,
} from '../a2a/task-ids.js';

/**
 * Stage "tasks": a task is visible only to the caller that created it (A2A: GetTask, ListTasks, CancelTask,
 * SubscribeToTask, the push-config methods, and a SendMessage continuing a task). Behind the gateway every
 * agent sees one client, the gateway, so the gateway keeps the owners itself:
 *
 *   record   the caller whose call created a task is its owner: read from the callee's answer to
 *            SendMessage (the result's Task id, or a Message's taskId) and from the first event of a
 *            SendStreamingMessage stream that names a task. The tap (TaskTap) sees the body as it passes
 *            and never holds it back: a plain answer is parsed when it has been sent, a stream event by event.
 *   check    a call naming a task of this callee: its owner passes; anyone else gets 403 `task_not_owned`
 *            (the callee never sees the call). A task with no record gets 403 `task_unknown` unless config
 *            `taskOwners.unknownTasks` is `forward` (then the agent decides, and must scope tasks itself).
 *   filter   ListTasks answers are cut to the caller's own tasks (and, with `forward`, tasks with no record).
 *
 * Calls of other methods (and a SendMessage whose body cannot name a task) do no lookup.
 */
export type UnknownTasks = 'refuse' | 'forward';

export interface TaskStageOptions {
  owners: TaskOwners;
  /** a record could not be written (the shared store failed): the task will be unknown */
  onRecordError?: (err: unknown, ex: Exchange) => void;
}

export class TaskOwnership {
  constructor(private readonly o: TaskStageOptions) {}

  /**
   * The check, before governance and forwarding. Returns undefined when there is nothing to look up (the
   * common case, no promise), else the lookup's decision. Also readies the response tap / filter.
   */
  check(ex: Exchange, unknownTasks: UnknownTasks): Promise<Refusal | undefined> | undefined {
    const method = ex.method;
    if (method === 'ListTasks') {
      ex.rewriteBody = (body) => this.filterList(ex, body, unknownTasks);
      return undefined;
    }
    if (!namesTask(method)) return undefined;
    const message = isMessageMethod(method);
    if (message) {
      ex.tap = new TaskTap(ex, this);
      ex.tapBody = true;
      // the body scan (a2a/scan.ts) saw no taskId / contextId key: nothing to read, no parse
      if (ex.body === undefined || !ex.namesTask) return undefined;
    }
    const ref = requestRef(ex);
    ex.taskId = ref.taskId;
    ex.contextId = ref.contextId;
    if (ref.taskId === '') return undefined; // a new task (or a malformed call the agent refuses itself)
    const { callerId, callee } = ex;
    const id = ref.taskId;
    return this.o.owners.ownerOf(callee, id).then(
      (owner) => decideTaskAccess({ callerId, callee, method, taskId: id, owner, unknownTasks }),
      (err: unknown) => ownersUnavailable(callee, id, err),
    );
  }

  /** A response named the task it created (or answered for): its caller becomes the owner if it has none. */
  created(ex: Exchange, ref: TaskRef): void {
    if (ex.taskId === ref.taskId) return; // the call continued a task it was checked to own
    ex.taskId = ref.taskId;
    if (ref.contextId !== '') ex.contextId = ref.contextId;
    if (ex.status < 200 || ex.status >= 300) return;
    this.o.owners.recordOwner(ex.callee, ref.taskId, ex.callerId).catch((err: unknown) => this.o.onRecordError?.(err, ex));
  }

  private async filterList(ex: Exchange, body: Buffer, unknownTasks: UnknownTasks): Promise<Buffer> {
    let v: unknown;
    try {
      v = JSON.parse(body.toString('utf8'));
    } catch {
      return body; // not JSON: nothing a client could read tasks from
    }
    const listed = listedTasks(v);
    if (listed === undefined) return body; // an error answer
    const ids = listed.tasks.map(listedTaskId);
    const owners = await this.o.owners.ownersOf(ex.callee, ids);
    const kept = listed.tasks.filter((_, i) => keepListed(owners[i], ex.callerId, ids[i], unknownTasks));
    if (kept.length === listed.tasks.length) return body;
    listed.holder.tasks = kept;
    if (typeof listed.holder.totalSize === 'number') listed.holder.totalSize = Math.max(0, listed.holder.totalSize - (listed.tasks.length - kept.length));
    return Buffer.from(JSON.stringify(v));
  }
}

/** Pure: may a listed task be shown to `callerId`? */
export function keepListed(owner: string | undefined, callerId: string, taskId: string, unknownTasks: UnknownTasks): boolean {
  if (taskId === '') return false;
  if (owner === undefined) return unknownTasks === 'forward';
  return owner === callerId;
}

/** The task and context the request names (parses the body: called only for calls that can name one). */
export function requestRef(ex: Exchange): TaskRef {
  if (ex.isRpc) {
    const rpc = ex.rpc;
    if (rpc === undefined) return NONE;
    return rpcRequestRef(ex.method, typeof rpc.method === 'string' ? rpc.method : '', rpc.params);
  }
  let body: unknown;
  if (isMessageMethod(ex.method) && ex.body !== undefined) {
    try {
      body = JSON.parse(ex.body.toString('utf8'));
    } catch {
      return NONE; // the agent refuses a body it cannot parse
    }
  }
  return restRequestRef(ex.method, ex.rest, body);
}

export interface TaskAccess {
  callerId: string;
  callee: string;
  method: string;
  taskId: string;
  owner: string | undefined;
  unknownTasks: UnknownTasks;
}

/** Pure: the decision for a call naming a task. */
export function decideTaskAccess(a: TaskAccess): Refusal | undefined {
  if (a.owner === a.callerId) return undefined;
  const data = { taskId: a.taskId, callee: a.callee, method: a.method };
  if (a.owner === undefined) {
    if (a.unknownTasks === 'forward') return undefined;
    return refusal(
      403,
      RPC_CODE.forbidden,
      'task_unknown',
      `the gateway has no record of task "${a.taskId}" at agent "${a.callee}" (not created through this gateway, or its record expired): ${a.method} on it is refused (taskOwners.unknownTasks: refuse)`,
      { data },
    );
  }
  // the owner is not named: that would tell another caller who works with this agent
  return refusal(
    403,
    RPC_CODE.forbidden,
    'task_not_owned',
    `task "${a.taskId}" at agent "${a.callee}" was created by another caller: only its creator may ${a.method === 'SendMessage' || a.method === 'SendStreamingMessage' ? 'continue' : 'use'} it (${a.method})`,
    { data },
  );
}

function ownersUnavailable(callee: string, taskId: string, err: unknown): Refusal {
  return refusal(
    503,
    RPC_CODE.unavailable,
    'task_owners_unavailable',
    `the owner of task "${taskId}" at agent "${callee}" cannot be looked up (${(err as Error)?.message ?? 'store failed'}): the call is refused rather than let through unchecked`,
    { data: { taskId, callee } },
  );
}

/** Response bodies held to find a created task: past this size the tap gives up (the task stays unknown). */
const MAX_TAPPED = 1024 * 1024;

/**
 * The response tap of a SendMessage / SendStreamingMessage. A plain answer: the chunks are kept by
 * reference (they are the ones the engine hands on, never changed after) and parsed once the answer has
 * gone out (end(), from the pipeline when the call ends); only an answer mentioning "task" is parsed. A stream: events are scanned as they pass, and the tap goes quiet after the first one naming a task.
 */
export class TaskTap implements ResponseTap {
  private first: Buffer | undefined = undefined;
  private more: Buffer[] | undefined = undefined;
  private size = 0;
  private sse: SseTaskScanner | undefined = undefined;
  private done = false;

  constructor(
    private readonly ex: Exchange,
    private readonly stage: TaskOwnership,
  ) {}

  data(chunk: Buffer): void {
    if (this.done) return;
    if (this.ex.streaming) {
      const ref = (this.sse ??= new SseTaskScanner()).push(chunk);
      if (ref.taskId !== '') {
        this.done = true;
        this.stage.created(this.ex, ref);
      }
      return;
    }
    this.size += chunk.length;
    if (this.size > MAX_TAPPED) {
      this.done = true;
      this.first = this.more = undefined;
      return;
    }
    if (this.first === undefined) this.first = chunk;
    else (this.more ??= []).push(chunk);
  }

  /** The call ended (`complete`: the whole answer arrived): read a plain answer's task. */
  end(complete: boolean): void {
    const first = this.first;
    if (this.done || first === undefined) return;
    this.done = true;
    const body = this.more === undefined ? first : Buffer.concat([first, ...this.more]);
    this.first = this.more = undefined;
    if (!complete || !mentionsTask(body)) return;
    const ref = parsedRef(body);
    if (ref.taskId !== '') this.stage.created(this.ex, ref);
  }
}

/** The task a whole (non-stream) answer names. */
export function parsedRef(body: Buffer): TaskRef {
  try {
    return responseRef(JSON.parse(body.toString('utf8')));
  } catch {
    return NONE;
  }
}
