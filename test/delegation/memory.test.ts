import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { answer, call, makeConfig, makeStage } from './helpers.js';

/** A gc() even without --expose-gc (the flag can be set at runtime; the function is then visible in a new context). */
function getGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

describe('bounded memory', () => {
  it('stays bounded after 100,000 root tasks', () => {
    const { stage, clock } = makeStage(makeConfig({ graph: { recentTasks: 200, maxCallsPerTask: 50 } }));
    const gc = getGc();
    const heap = () => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        clock.advance(1);
        const root = call(stage, 'alice', 'orchestrator');
        if (i % 10 === 0) {
          const child = call(stage, 'orchestrator', 'researcher', root.token);
          answer(stage, child, 200, '0.001');
        }
        answer(stage, root, 200);
      }
    };
    run(20_000); // fill every bounded structure
    const before = heap();
    run(80_000);
    const after = heap();
    const s = stage.stats();
    // default tracked-task cap: max(10 x recentTasks, 10000)
    expect(s.tasks.tasks).toBeLessThanOrEqual(10_000);
    expect(s.tasks.evicted + s.tasks.expired).toBeGreaterThanOrEqual(90_000);
    expect(s.tasks.inFlightCalls).toBe(0);
    expect(s.trees).toBe(200);
    expect(s.treeCalls).toBeLessThanOrEqual(400);
    expect(s.edges).toBe(2);
    expect(s.agents).toBe(1);
    console.log(`delegation memory: gc ${gc ? 'on' : 'off'}, heap growth over 80,000 more tasks ${((after - before) / 1048576).toFixed(1)} MiB`, s);
    if (gc) expect(after - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('tasks whose tokens have expired are dropped without eviction', () => {
    const { stage, clock } = makeStage(makeConfig({ delegation: { tokenTtl: '1m' } }));
    for (let i = 0; i < 5000; i++) {
      answer(stage, call(stage, 'alice', 'orchestrator'));
      clock.advance(100);
    }
    // 5000 tasks over 500 s with a 60 s token TTL: only the last minute's are live
    clock.advance(1);
    stage.tick();
    const s = stage.stats();
    expect(s.tasks.tasks).toBeLessThanOrEqual(601);
    expect(s.tasks.evicted).toBe(0);
  });
});
