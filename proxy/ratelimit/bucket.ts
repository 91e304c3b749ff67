/**
 * A token bucket over plain numbers: `rps` tokens per second refill, up to `burst`. Time is passed in
 * (ms), never read, so it is tested with a fake clock.
 */
export interface Bucket {
  tokens: number;
  last: number; // ms of the last refill
}

export interface Rate {
  rps: number;
  burst: number;
}

export function newBucket(rate: Rate, now: number): Bucket {
  return { tokens: rate.burst, last: now };
}

/** Bring the bucket up to `now`. A clock going backwards refills nothing (and does not drain). */
export function refill(b: Bucket, rate: Rate, now: number): void {
  const dt = now - b.last;
  if (dt > 0) {
    const t = b.tokens + (dt * rate.rps) / 1000;
    b.tokens = t > rate.burst ? rate.burst : t;
    b.last = now;
  }
}

/** Seconds until one token is available (0 when one is available now). Call after refill. */
export function waitSeconds(b: Bucket, rate: Rate): number {
  return b.tokens >= 1 ? 0 : (1 - b.tokens) / rate.rps;
}
