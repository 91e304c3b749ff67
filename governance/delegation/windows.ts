/**
 * Per-agent call and cost windows (config agents.<name>.limits), O(1) per call.
 *
 * Each window is a sliding-window counter: the count of the current fixed window plus the previous window's
 * count weighted by how much of it still overlaps the sliding window. It has no boundary burst (a fixed window
 * lets 2x the limit through around a boundary) and needs two numbers per window instead of a log of calls.
 */
export class SlidingCounter {
  private start = Number.NEGATIVE_INFINITY;
  private curr = 0;
  private prev = 0;
  constructor(readonly windowMs: number) {}

  private roll(now: number): void {
    const start = now - (now % this.windowMs);
    if (start === this.start) return;
    this.prev = start - this.start === this.windowMs ? this.curr : 0;
    this.curr = 0;
    this.start = start;
  }

  value(now: number): number {
    this.roll(now);
    return this.prev * (1 - (now - this.start) / this.windowMs) + this.curr;
  }

  add(now: number, n: number): void {
    this.roll(now);
    this.curr += n;
  }

  /** ms from now until value() <= target, assuming nothing more is added. 0 if already there. */
  msUntilAtMost(now: number, target: number): number {
    const v = this.value(now);
    if (v <= target) return 0;
    const W = this.windowMs;
    if (this.curr <= target) {
      // still in this window: prev*(1-f) + curr <= target  =>  f >= 1 - (target-curr)/prev
      const f = 1 - (target - this.curr) / this.prev;
      return Math.max(1, Math.ceil(this.start + f * W - now));
    }
    // in the next window, curr becomes prev: curr*(1-f) <= target  =>  f >= 1 - target/curr
    const f = 1 - target / this.curr;
    return Math.max(1, Math.ceil(this.start + W + f * W - now));
  }
}

export interface AgentLimits {
  callsPerMinute?: number;
  callsPerHour?: number;
  callsPerDay?: number;
  costPerDay?: number;
}

export type WindowBudget = 'callsPerMinute' | 'callsPerHour' | 'callsPerDay' | 'costPerDay';

export interface WindowVerdict {
  budget: WindowBudget;
  limit: number;
  /** current sliding-window value (calls or cost) */
  used: number;
  /** whole seconds until one more call fits (for Retry-After) */
  retryAfterSec: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

interface AgentAccount {
  minute: SlidingCounter;
  hour: SlidingCounter;
  day: SlidingCounter;
  cost: SlidingCounter;
}

/** Halve every limit (graph.enforceCycles: agents on an aggregate cycle get half their windows). */
export function halveLimits(l: AgentLimits): AgentLimits {
  const half = (n: number | undefined) => (n === undefined ? undefined : Math.max(1, Math.floor(n / 2)));
  return {
    callsPerMinute: half(l.callsPerMinute),
    callsPerHour: half(l.callsPerHour),
    callsPerDay: half(l.callsPerDay),
    costPerDay: l.costPerDay === undefined ? undefined : l.costPerDay / 2,
  };
}

/** Accounts are keyed by agent name (only registered agents have limits), so memory is bounded by the config. */
export class AgentWindows {
  private accounts = new Map<string, AgentAccount>();

  private account(agent: string): AgentAccount {
    let a = this.accounts.get(agent);
    if (!a) {
      a = { minute: new SlidingCounter(MINUTE), hour: new SlidingCounter(HOUR), day: new SlidingCounter(DAY), cost: new SlidingCounter(DAY) };
      this.accounts.set(agent, a);
    }
    return a;
  }

  /** Would one more call by `agent` exceed a limit? Returns the first exhausted budget, or undefined. */
  check(agent: string, limits: AgentLimits | undefined, now: number): WindowVerdict | undefined {
    if (!limits) return undefined;
    const a = this.accounts.get(agent);
    if (!a) return undefined;
    return (
      callVerdict(a.minute, 'callsPerMinute', limits.callsPerMinute, now) ??
      callVerdict(a.hour, 'callsPerHour', limits.callsPerHour, now) ??
      callVerdict(a.day, 'callsPerDay', limits.callsPerDay, now) ??
      costVerdict(a.cost, limits.costPerDay, now)
    );
  }

  recordCall(agent: string, now: number): void {
    const a = this.account(agent);
    a.minute.add(now, 1);
    a.hour.add(now, 1);
    a.day.add(now, 1);
  }

  recordCost(agent: string, amount: number, now: number): void {
    this.account(agent).cost.add(now, amount);
  }

  usage(agent: string, now: number): { callsPerMinute: number; callsPerHour: number; callsPerDay: number; costPerDay: number } | undefined {
    const a = this.accounts.get(agent);
    if (!a) return undefined;
    return { callsPerMinute: a.minute.value(now), callsPerHour: a.hour.value(now), callsPerDay: a.day.value(now), costPerDay: a.cost.value(now) };
  }

  size(): number {
    return this.accounts.size;
  }
}

function callVerdict(c: SlidingCounter, budget: WindowBudget, limit: number | undefined, now: number): WindowVerdict | undefined {
  if (limit === undefined) return undefined;
  const used = c.value(now);
  // one more call must fit entirely: used + 1 <= limit
  if (used + 1 <= limit + 1e-9) return undefined;
  return { budget, limit, used, retryAfterSec: Math.max(1, Math.ceil(c.msUntilAtMost(now, limit - 1) / 1000)) };
}

function costVerdict(c: SlidingCounter, limit: number | undefined, now: number): WindowVerdict | undefined {
  if (limit === undefined) return undefined;
  const used = c.value(now);
  // the next call's cost is unknown until it answers: refuse once the spend has reached the limit
  if (used < limit) return undefined;
  return { budget: 'costPerDay', limit, used, retryAfterSec: Math.max(1, Math.ceil(c.msUntilAtMost(now, limit * 0.999999) / 1000)) };
}
