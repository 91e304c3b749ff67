import { describe, expect, it } from 'vitest';
import { AgentWindows, halveLimits, SlidingCounter } from '../../governance/delegation/windows.js';

describe('sliding window counter', () => {
  it('weights the previous window by its remaining overlap', () => {
    const c = new SlidingCounter(60_000);
    c.add(0, 6);
    expect(c.value(59_999)).toBe(6);
    expect(c.value(60_000)).toBe(6); // new window, previous fully overlapping
    expect(c.value(90_000)).toBeCloseTo(3);
    c.add(90_000, 1);
    expect(c.value(90_000)).toBeCloseTo(4);
    expect(c.value(120_000)).toBe(1); // the window with 6 is gone
    expect(c.value(200_000)).toBe(0); // a skipped window resets both
  });

  it('msUntilAtMost gives the time when the value drops to the target', () => {
    const c = new SlidingCounter(60_000);
    c.add(0, 3);
    const ms = c.msUntilAtMost(0, 2);
    expect(ms).toBe(80_000);
    expect(c.value(ms - 1)).toBeGreaterThan(2);
    expect(c.value(ms)).toBeLessThanOrEqual(2);
    c.add(61_000, 1);
    const ms2 = c.msUntilAtMost(61_000, 2);
    expect(c.value(61_000 + ms2)).toBeLessThanOrEqual(2 + 1e-9);
    expect(c.value(61_000 + ms2 - 1)).toBeGreaterThan(2);
  });

  it('AgentWindows reports the first exhausted budget; halveLimits halves with a floor of 1', () => {
    const w = new AgentWindows();
    for (let i = 0; i < 4; i++) w.recordCall('x', 1000);
    expect(w.check('x', { callsPerMinute: 4 }, 1000)?.budget).toBe('callsPerMinute');
    expect(w.check('x', { callsPerMinute: 5 }, 1000)).toBeUndefined();
    expect(w.check('x', { callsPerMinute: 100, callsPerHour: 4 }, 1000)?.budget).toBe('callsPerHour');
    expect(w.check('x', undefined, 1000)).toBeUndefined();
    expect(halveLimits({ callsPerMinute: 5, callsPerHour: 1, costPerDay: 3 })).toEqual({
      callsPerMinute: 2,
      callsPerHour: 1,
      callsPerDay: undefined,
      costPerDay: 1.5,
    });
  });
});
