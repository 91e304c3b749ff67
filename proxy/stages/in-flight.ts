import type { Exchange } from '../exchange.js';
import { releaseSlots } from './limits.js';
import type { Recorder } from './record.js';

/**
 * The calls a binding has begun and not yet recorded, and the end every call comes to exactly once: its
 * limiter slots released, its duration taken, metrics and the audit line written (stage "record"). A
 * shutdown waits on idle() for the calls in flight.
 */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly recorder: Recorder) {}

  begin(): void {
    this.count++;
  }

  /** record the exchange; the last call in flight wakes whoever waits for idle() */
  end(ex: Exchange): void {
    if (ex.holdsSlot || ex.holdsShadowSlot) releaseSlots(ex);
    ex.durationUs = Math.round((performance.now() - ex.t0) * 1000);
    this.recorder.record(ex);
    if (--this.count === 0 && this.waiters.length > 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  /** resolves when no call is in flight */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }
}
