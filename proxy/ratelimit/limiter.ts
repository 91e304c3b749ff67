import type { RateLimits } from '../../config/schema.js';
import { newBucket, refill, waitSeconds, type Bucket, type Rate } from './bucket.js';

/**
 * The rate-limit decision: token buckets per caller and per caller -> callee edge, and a cap on in-flight
 * calls per callee. Built from config at load; pure over its own state and the `now` passed in.
 *
 * A call either takes one token from BOTH buckets and a concurrency slot, or takes nothing: a refusal by
 * the edge bucket does not drain the caller's bucket.
 */
export type LimitKind = 'caller' | 'edge' | 'concurrency';

/** A refusal reason that is rate limiting (this limiter's, or the same limits enforced fleet-wide by governance). */
export function isLimitReason(reason: string): boolean {
  return reason === 'caller' || reason === 'edge' || reason === 'concurrency';
}
export type LimitDecision = { ok: true } | { ok: false; limit: LimitKind; retryAfterSec: number };

interface CallerState {
  bucket: Bucket | null;
  edges: Map<string, Bucket> | null;
  last: number;
}

const OK: LimitDecision = { ok: true };
/** Bound on tracked callers; idle ones (bucket full again) are swept when it is reached. */
const MAX_CALLERS = 50_000;

export class Limiter {
  readonly enabled: boolean;
  private readonly perCaller: Rate | undefined;
  private readonly perEdge: Rate | undefined;
  private readonly maxConcurrent: number | undefined;
  private readonly callers = new Map<string, CallerState>();
  private readonly inFlight = new Map<string, number>();

  constructor(limits: RateLimits) {
    this.perCaller = limits.perCaller;
    this.perEdge = limits.perEdge;
    this.maxConcurrent = limits.maxConcurrentPerCallee;
    this.enabled = !!(this.perCaller || this.perEdge || this.maxConcurrent);
  }

  /** Decide, and on success take the tokens and a concurrency slot (give it back with release()). */
  acquire(callerId: string, callee: string, now: number): LimitDecision {
    let st: CallerState | undefined;
    let edge: Bucket | undefined;
    if (this.perCaller || this.perEdge) {
      st = this.callers.get(callerId);
      if (st === undefined) {
        if (this.callers.size >= MAX_CALLERS) this.sweep(now);
        st = { bucket: this.perCaller ? newBucket(this.perCaller, now) : null, edges: this.perEdge ? new Map() : null, last: now };
        this.callers.set(callerId, st);
      }
      st.last = now;
      if (st.bucket !== null) {
        refill(st.bucket, this.perCaller!, now);
        if (st.bucket.tokens < 1) return { ok: false, limit: 'caller', retryAfterSec: waitSeconds(st.bucket, this.perCaller!) };
      }
      if (st.edges !== null) {
        edge = st.edges.get(callee);
        if (edge === undefined) {
          edge = newBucket(this.perEdge!, now);
          st.edges.set(callee, edge);
        }
        refill(edge, this.perEdge!, now);
        if (edge.tokens < 1) return { ok: false, limit: 'edge', retryAfterSec: waitSeconds(edge, this.perEdge!) };
      }
    }
    if (this.maxConcurrent !== undefined) {
      const n = this.inFlight.get(callee) ?? 0;
      // No bucket to compute from: in-flight calls usually finish within a second.
      if (n >= this.maxConcurrent) return { ok: false, limit: 'concurrency', retryAfterSec: 1 };
      this.inFlight.set(callee, n + 1);
    }
    if (st?.bucket) st.bucket.tokens -= 1;
    if (edge) edge.tokens -= 1;
    return OK;
  }

  /** Give back the concurrency slot taken by a successful acquire(). */
  release(callee: string): void {
    if (this.maxConcurrent === undefined) return;
    const n = this.inFlight.get(callee) ?? 0;
    this.inFlight.set(callee, n > 0 ? n - 1 : 0);
  }

  inFlightFor(callee: string): number {
    return this.inFlight.get(callee) ?? 0;
  }

  /** Forget callers idle long enough that their buckets are full again (state equal to a fresh one). */
  private sweep(now: number): void {
    const fullAfterMs = Math.max(this.refillMs(this.perCaller), this.refillMs(this.perEdge));
    for (const [id, st] of this.callers) if (now - st.last >= fullAfterMs) this.callers.delete(id);
    if (this.callers.size >= MAX_CALLERS) this.callers.clear(); // a flood of distinct callers: fail open on memory, not on tokens
  }

  private refillMs(r: Rate | undefined): number {
    return r ? (r.burst / r.rps) * 1000 : 0;
  }
}
