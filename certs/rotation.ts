/**
 * When to renew a certificate: at half of its lifetime, pulled earlier by up to `jitter` of the lifetime
 * so a fleet issued together does not renew in one burst; and how long to wait before renewing again or
 * retrying (renewalDelay, retryDelay). One schedule for the gateway's own SVID (control/gateway.ts) and
 * for agents (agent-bootstrap/identity.ts). Pure: the clock and randomness are injected (tested without timers).
 */
export interface Validity {
  notBefore: number; // ms since epoch
  notAfter: number;
}

/** The moment to rotate. `random` returns [0,1); default jitter 10 % of the lifetime. */
export function rotateAt(cert: Validity, random: () => number = Math.random, jitter = 0.1): number {
  const life = cert.notAfter - cert.notBefore;
  // Clamped so a bad random source or jitter can never push renewal before issuance or past half-life.
  const r = Math.min(Math.max(random(), 0), 1);
  const j = Math.min(Math.max(jitter, 0), 0.5);
  return cert.notBefore + life * (0.5 - j * r);
}

export function shouldRotate(now: number, cert: Validity, random: () => number = Math.random, jitter = 0.1): boolean {
  return now >= rotateAt(cert, random, jitter);
}

export interface RetryPolicy {
  /** first retry delay, ms (default 1 s) */
  initialMs?: number;
  /** cap, ms (default 60 s, like step-ca's retry-every-minute while the CA is down) */
  maxMs?: number;
}

/** Delay before retry number `attempt` (1-based): exponential, capped, with ±20 % jitter so agents spread out. */
export function retryDelay(attempt: number, policy: RetryPolicy = {}, random: () => number = Math.random): number {
  const initial = policy.initialMs ?? 1000;
  const max = policy.maxMs ?? 60_000;
  const base = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface RenewalPlan {
  notBefore: number;
  notAfter: number;
  /**
   * When this process received the certificate. The CA backdates notBefore (against clock skew), so
   * "half of notAfter - notBefore" would come too early for short lifetimes — immediately for a 1-minute
   * SVID backdated by 1 minute. The lifetime that counts is the one left when we got it.
   */
  obtainedAt?: number;
}

export interface RenewalTiming {
  /** fraction of the usable lifetime after which to renew (default 0.5: half-life) */
  renewAt?: number;
  /** jitter as a fraction of the lifetime at half-life (default 0.1), scaled with renewAt */
  jitter?: number;
}

/** Never renew more often than this after a success, whatever the certificate says. */
export const MIN_RENEWAL_INTERVAL_MS = 1000;

/**
 * The moment to renew: rotateAt over the usable window, stretched so that its half-life
 * lands at `renewAt` of the window (renewAt 0.5 -> exactly rotateAt).
 */
export function renewalTime(cert: RenewalPlan, random: () => number = Math.random, timing: RenewalTiming = {}): number {
  const fraction = timing.renewAt ?? 0.5;
  const start = Math.max(cert.notBefore, Math.min(cert.obtainedAt ?? cert.notBefore, cert.notAfter));
  const life = cert.notAfter - start;
  return rotateAt({ notBefore: start, notAfter: start + life * 2 * fraction }, random, timing.jitter ?? 0.1);
}

/** Delay from `now` until the renewal (at least MIN_RENEWAL_INTERVAL_MS when `afterSuccess`). */
export function renewalDelay(cert: RenewalPlan, now: number, random: () => number = Math.random, timing: RenewalTiming = {}, afterSuccess = false): number {
  const d = Math.max(0, renewalTime(cert, random, timing) - now);
  return afterSuccess ? Math.max(d, MIN_RENEWAL_INTERVAL_MS) : d;
}

/** setTimeout overflows past 2^31-1 ms (~24.8 days) and fires at once; wake up early instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
