/**
 * Log lines for calls whose upstream failed (connection refused, reset, timeout, wrong identity, other), with
 * who called whom and the root task and call ids. An agent that is down fails every call made to it, so the
 * lines are throttled per callee and kind: the first is written at once, then at most one per `intervalMs`
 * carrying how many were left out since the last. Pure and clock-injected; nothing runs on a call that succeeded.
 */
export interface UpstreamFailure {
  caller: string;
  callee: string;
  calleeId: string;
  method: string;
  status: number;
  /** refused | reset | timeout | identity | other */
  kind: string;
  rootTaskId: string | undefined;
  callId: string | undefined;
}

export interface FailureLog {
  warn(obj: object, msg: string): void;
}

interface Slot {
  next: number;
  suppressed: number;
}

/** most (callee, kind) pairs remembered; beyond it the oldest is forgotten (its next failure is logged at once) */
const MAX_KEYS = 1024;

export class UpstreamFailureLog {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly log: FailureLog,
    private readonly now: () => number,
    private readonly intervalMs = 10_000,
  ) {}

  /** Returns whether a line was written. */
  failed(f: UpstreamFailure): boolean {
    const key = `${f.callee}\n${f.kind}`;
    const t = this.now();
    const slot = this.slots.get(key);
    if (slot !== undefined && t < slot.next) {
      slot.suppressed++;
      return false;
    }
    const suppressed = slot?.suppressed ?? 0;
    if (slot === undefined && this.slots.size >= MAX_KEYS) this.slots.delete(this.slots.keys().next().value!);
    this.slots.set(key, { next: t + this.intervalMs, suppressed: 0 });
    this.log.warn(
      {
        caller: f.caller,
        callee: f.callee,
        calleeId: f.calleeId,
        method: f.method,
        status: f.status,
        upstreamError: f.kind,
        rootTaskId: f.rootTaskId,
        callId: f.callId,
        ...(suppressed ? { suppressed } : {}),
      },
      `upstream failure: ${f.caller} -> ${f.callee} ${f.method} answered ${f.status} (${f.kind})${suppressed ? `; ${suppressed} more like it not logged` : ''}`,
    );
    return true;
  }
}
