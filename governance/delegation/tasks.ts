import { LinkedLru, type LruLinks } from '../graph/lru.js';
import type { AgentWindows } from './windows.js';

/**
 * Budget state per root task (the whole delegation tree started by one initiator), bounded in memory.
 *
 * Lifetime: a task's state is needed only while a token naming it can still verify. Tokens expire (TTL) and
 * the deadline is checked from the token itself, so a task is dropped at
 *   expiresAt = min(latest token expiry issued for it, start + deadline)
 * with nothing lost: a later token for it is either expired or past the deadline.
 *
 * Capacity: beyond `maxTasks` live tasks the least recently used task that is idle (no call in flight) and
 * not cancelled is evicted (or simply the least recently used, if none of the oldest few qualify).
 * Evicting must not hand the task a fresh budget, so a valid token whose task was started by THIS process but
 * is no longer here is refused ('context_task_unknown', fail closed). Tasks started by another process are
 * adopted with counters from zero: an earlier run of this one (a restart), or another replica of a fleet (its
 * keys are shared, its task registry is not). Depth, loop, deadline and expiry still hold (they travel in
 * the token), the call/cost/fan-out counters are this process's own: a bounded loss, once per restart, and a
 * per-replica budget in a fleet until the counters are shared. Set adoptAfterRestart: false to refuse them
 * instead. A cancellation is in memory only: it does not survive a restart, and holds on this replica only.
 *
 * Which tasks this process started: `ownTask` (the stage mints root task ids with a per-process prefix);
 * without it, those whose root started after `bootAt` (right for a single process only).
 */
export interface TaskState extends LruLinks<TaskState> {
  readonly rootTaskId: string;
  /** SPIFFE ID of the caller that started the task */
  readonly initiator: string;
  readonly startedAt: number;
  /** started before this process booted and adopted from a token */
  readonly adopted: boolean;
  calls: number;
  inFlight: number;
  cost: number;
  cancelled: boolean;
  /** when this state can be dropped (see above) */
  expiresAt: number;
  deadlineAt: number;
  /** children per call id, allocated on the first child */
  fanOut: Map<string, number> | undefined;
}

/** An in-flight call, from beginCall to finishCall. */
export interface CallState {
  readonly callId: string;
  readonly task: TaskState;
  readonly parentCallId: string | undefined;
  /** the calling agent's name (cost and window account), if the caller is a registered agent */
  readonly callerAgent: string | undefined;
  finished: boolean;
}

export interface TaskRegistryOptions {
  /** most live tasks kept (see class comment) */
  maxTasks: number;
  /** this process's start; tasks with an earlier root start are from before a restart */
  bootAt: number;
  /** whether this process minted the root task id (see above); default: the root started after bootAt */
  ownTask?: (rootTaskId: string) => boolean;
  /** adopt tasks started by another process (a restart, another replica); default true */
  adoptAfterRestart?: boolean;
  /** per-agent cost account, charged by recordCost */
  windows?: AgentWindows;
  /** told about every cost recorded (the call graph rolls it up the tree) */
  onCost?: (rootTaskId: string, callId: string, parentCallId: string | undefined, amount: number) => void;
  /** told about every eviction of a live task (metrics) */
  onEvict?: (task: TaskState) => void;
}

/** How many of the oldest entries a bounded maintenance step looks at, keeping the request path O(1). */
const SCAN = 16;

export class TaskRegistry {
  /** use order: every new call touches its task (the links live in TaskState: no node object per task) */
  private tasks = new LinkedLru<string, TaskState>();
  /** calls begun and not finished (a count: the stage holds each CallState itself, so no map by call id) */
  private inFlightCalls = 0;
  private maxTasks: number;
  private readonly bootAt: number;
  private readonly adopt: boolean;
  private readonly ownTask?: (rootTaskId: string) => boolean;
  private readonly windows?: AgentWindows;
  private readonly onCost?: TaskRegistryOptions['onCost'];
  private readonly onEvict?: TaskRegistryOptions['onEvict'];
  private counters = { evicted: 0, expired: 0, adopted: 0 };

  constructor(opts: TaskRegistryOptions) {
    this.maxTasks = opts.maxTasks;
    this.bootAt = opts.bootAt;
    this.adopt = opts.adoptAfterRestart ?? true;
    this.ownTask = opts.ownTask;
    this.windows = opts.windows;
    this.onCost = opts.onCost;
    this.onEvict = opts.onEvict;
  }

  setMaxTasks(n: number): void {
    this.maxTasks = n;
  }

  get(rootTaskId: string): TaskState | undefined {
    return this.tasks.get(rootTaskId);
  }

  /**
   * The task a verified context belongs to: the live one, an adopted one (started by another process: before
   * a restart, or by another replica), or undefined (started here and evicted: the caller must refuse, fail
   * closed).
   */
  resolve(rootTaskId: string, initiator: string, rootStartedAt: number, deadlineMs: number, tokenTtlMs: number, now: number): TaskState | undefined {
    const t = this.tasks.get(rootTaskId);
    if (t) return t;
    const own = this.ownTask ? this.ownTask(rootTaskId) : rootStartedAt >= this.bootAt;
    if (!this.adopt || own) return undefined;
    this.counters.adopted++;
    // keep it while any token issued before the restart may still be valid (all were issued before now)
    return this.insert(rootTaskId, initiator, rootStartedAt, deadlineMs, now, true, now + tokenTtlMs);
  }

  /** Start a new root task (the caller sent no context). */
  startRoot(rootTaskId: string, initiator: string, now: number, deadlineMs: number): TaskState {
    return this.insert(rootTaskId, initiator, now, deadlineMs, now, false, now);
  }

  private insert(rootTaskId: string, initiator: string, startedAt: number, deadlineMs: number, now: number, adopted: boolean, keepUntil: number): TaskState {
    this.makeRoom(now);
    const deadlineAt = startedAt + deadlineMs;
    const t: TaskState = {
      rootTaskId,
      initiator,
      startedAt,
      adopted,
      calls: 0,
      inFlight: 0,
      cost: 0,
      cancelled: false,
      expiresAt: Math.min(keepUntil, deadlineAt),
      deadlineAt,
      fanOut: undefined,
      lruOlder: undefined,
      lruNewer: undefined,
    };
    // callers insert only ids not here (resolve() looked; startRoot() gets a fresh random id): add(), not set()
    this.tasks.add(rootTaskId, t, keyOf);
    return t;
  }

  /** the oldest few tasks, looked at by makeRoom (one array for every call) */
  private readonly scan: TaskState[] = [];

  private makeRoom(now: number): void {
    // drop a few expired tasks from the old end (bounded work per call; tick() sweeps the rest)
    let dropped = false;
    for (const t of this.tasks.oldest(SCAN, this.scan)) {
      if (t.expiresAt <= now && t.inFlight === 0) {
        this.tasks.delete(t.rootTaskId);
        this.counters.expired++;
        dropped = true;
      }
    }
    if (this.tasks.size < this.maxTasks) {
      this.scan.length = 0;
      return;
    }
    // the oldest few again, unless nothing was dropped: then they are the ones just looked at
    const oldest = dropped ? this.tasks.oldest(SCAN, this.scan) : this.scan;
    // prefer an idle task; keep cancelled ones (an evicted adopted task would come back uncancelled)
    let victim: TaskState | undefined = oldest[0];
    for (const t of oldest) {
      if (t.inFlight === 0 && !t.cancelled) {
        victim = t;
        break;
      }
    }
    this.scan.length = 0;
    if (victim) {
      this.tasks.delete(victim.rootTaskId);
      this.counters.evicted++;
      this.onEvict?.(victim);
    }
  }

  /** Count an allowed call against its task (and the caller's window account). */
  beginCall(
    task: TaskState,
    callId: string,
    parentCallId: string | undefined,
    callerAgent: string | undefined,
    tokenExpiresAt: number,
    now: number,
    /** false for a push notification: it is no child the parent delegated (push.ts) */
    countFanOut = true,
  ): CallState {
    task.calls++;
    task.inFlight++;
    if (parentCallId !== undefined && countFanOut) {
      task.fanOut ??= new Map();
      task.fanOut.set(parentCallId, (task.fanOut.get(parentCallId) ?? 0) + 1);
    }
    const exp = Math.min(tokenExpiresAt, task.deadlineAt);
    if (exp > task.expiresAt) task.expiresAt = exp;
    // LRU touch (an evicted task object stays detached)
    this.tasks.touch(task);
    if (callerAgent !== undefined) this.windows?.recordCall(callerAgent, now);
    this.inFlightCalls++;
    return { callId, task, parentCallId, callerAgent, finished: false };
  }

  /** Children already started under `callId`. */
  fanOutOf(task: TaskState, callId: string): number {
    return task.fanOut?.get(callId) ?? 0;
  }

  /** The call ended (answer, upstream error or abort). Idempotent: returns false if already finished. */
  finishCall(c: CallState): boolean {
    if (c.finished) return false;
    c.finished = true;
    c.task.inFlight--;
    this.inFlightCalls--;
    return true;
  }

  /**
   * Charge `amount` for an in-flight call: the root task, the caller's agent account (costPerDay) and, via
   * onCost, every ancestor call in the tree. Returns false if the call already finished.
   */
  recordCost(c: CallState, amount: number, now: number): boolean {
    if (c.finished) return false;
    c.task.cost += amount;
    if (c.callerAgent !== undefined) this.windows?.recordCost(c.callerAgent, amount, now);
    this.onCost?.(c.task.rootTaskId, c.callId, c.parentCallId, amount);
    return true;
  }

  /** Kill switch: every later call under this task is refused. Returns false if the task is not known. */
  cancel(rootTaskId: string): boolean {
    const t = this.tasks.get(rootTaskId);
    if (!t) return false;
    t.cancelled = true;
    return true;
  }

  /** Drop every expired idle task (for a timer; the request path only does bounded steps). */
  sweep(now: number): number {
    let n = 0;
    this.tasks.walkOldest((t) => {
      if (t.expiresAt <= now && t.inFlight === 0) {
        this.tasks.delete(t.rootTaskId);
        n++;
      }
    });
    this.counters.expired += n;
    return n;
  }

  stats(): { tasks: number; inFlightCalls: number; evicted: number; expired: number; adopted: number } {
    return { tasks: this.tasks.size, inFlightCalls: this.inFlightCalls, ...this.counters };
  }
}

function keyOf(t: TaskState): string {
  return t.rootTaskId;
}
