import { afterEach, describe, expect, it } from 'vitest';
import { RedisGovernance, type ReserveRequest, type TaskBudget } from '../../governance/fleet/redis-governance.js';
import { testRedis, type TestRedis } from '../redis.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function setup(n = 2, leaseMs = 60_000): { t: TestRedis; govs: RedisGovernance[] } {
  const t = testRedis();
  cleanup.push(() => t.cleanup());
  const govs = Array.from({ length: n }, () => {
    const g = new RedisGovernance({ redis: t.client(), prefix: t.prefix, leaseMs });
    cleanup.push(() => g.close());
    return g;
  });
  return { t, govs };
}

const budget: TaskBudget = { maxCalls: 50, maxFanOut: 1000, maxConcurrent: 1000, maxCost: undefined };
const req = (over: Partial<ReserveRequest> = {}): ReserveRequest => ({
  callerId: 'spiffe://t/agent/a',
  callee: 'writer',
  perCaller: undefined,
  perEdge: undefined,
  maxConcurrentPerCallee: undefined,
  task: undefined,
  ...over,
});
const inTask = (rootTaskId: string, b: Partial<TaskBudget> = {}, parentCallId = 'p1') => ({
  rootTaskId,
  isNew: false,
  parentCallId,
  budget: { ...budget, ...b },
  ttlMs: 60_000,
});

describe('RedisGovernance (real Redis): exact across replicas', () => {
  it('200 parallel calls in one task with maxCalls 50 over two replicas: exactly 50 reserved', async () => {
    const { govs } = setup();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => govs[i % 2].reserve(req({ task: inTask('task-1', {}, `p${i % 7}`) }))));
    expect(results.filter((r) => r.ok)).toHaveLength(50);
    for (const r of results) if (!r.ok) expect(r.reason).toBe('max_calls');
  });

  it('a per-edge bucket of burst 20 hit from two replicas at once: 20 pass, the rest wait with a retry time', async () => {
    const { govs } = setup();
    const r = req({ perEdge: { rps: 1, burst: 20 } });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => govs[i % 2].reserve(r)));
    expect(results.filter((x) => x.ok)).toHaveLength(20);
    const refused = results.filter((x) => !x.ok);
    for (const x of refused) {
      expect(x.reason).toBe('edge');
      expect(x.retryAfterMs).toBeGreaterThan(0);
      expect(x.retryAfterMs).toBeLessThanOrEqual(1000);
    }
  });

  it('refuses an over-limit key locally until its retry time (no round trip)', async () => {
    const { govs } = setup(1);
    const r = req({ perCaller: { rps: 0.5, burst: 1 } });
    expect((await govs[0].reserve(r)).ok).toBe(true);
    const first = await govs[0].reserve(r);
    expect(first).toMatchObject({ ok: false, reason: 'caller', local: false });
    const second = await govs[0].reserve(r);
    expect(second).toMatchObject({ ok: false, reason: 'caller', local: true });
  });

  it('caps concurrency per callee fleet-wide and gives a slot back on release', async () => {
    const { govs } = setup();
    const r = req({ maxConcurrentPerCallee: 4 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => govs[i % 2].reserve(r)));
    const ok = results.filter((x) => x.ok);
    expect(ok).toHaveLength(4);
    const held = ok[0];
    if (!held.ok) throw new Error('unreachable');
    govs.forEach((g) => g.release(undefined));
    const owner = govs.find((g) => g.heldCount() > 0);
    owner?.release(held.lease);
    await new Promise((res) => setTimeout(res, 50));
    const again = await govs[1].reserve(r);
    expect(again.ok).toBe(true);
  });

  it('a dead replica\u2019s slots come back when its lease expires', async () => {
    const { govs } = setup(2, 300);
    const r = req({ maxConcurrentPerCallee: 1 });
    expect((await govs[0].reserve(r)).ok).toBe(true);
    govs[0].close(); // "dies": no release, no renewal
    expect((await govs[1].reserve(r)).ok).toBe(false);
    await new Promise((res) => setTimeout(res, 400));
    expect((await govs[1].reserve(r)).ok).toBe(true);
  });

  it('the kill switch and the cost budget hold on every replica', async () => {
    const { govs } = setup();
    expect((await govs[0].reserve(req({ task: { ...inTask('t2'), isNew: true } }))).ok).toBe(true);
    await govs[0].addCost('t2', 7);
    expect(await govs[1].reserve(req({ task: inTask('t2', { maxCost: 5 }) }))).toMatchObject({ ok: false, reason: 'max_cost', detail: '7' });
    await govs[0].cancel('t2', 60_000);
    expect(await govs[1].reserve(req({ task: inTask('t2') }))).toMatchObject({ ok: false, reason: 'cancelled' });
  });

  it('fan-out is counted per parent call and task concurrency by leases', async () => {
    const { govs } = setup();
    const fan = await Promise.all(Array.from({ length: 6 }, (_, i) => govs[i % 2].reserve(req({ task: inTask('t3', { maxFanOut: 3 }, 'parent') }))));
    expect(fan.filter((r) => r.ok)).toHaveLength(3);
    const conc = await Promise.all(Array.from({ length: 6 }, (_, i) => govs[i % 2].reserve(req({ task: inTask('t4', { maxConcurrent: 2 }, `p${i}`) }))));
    expect(conc.filter((r) => r.ok)).toHaveLength(2);
    expect(conc.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'task_concurrency')).toBe(true);
  });

  it("an agent's call windows and cost per day are shared: 5 calls a minute means 5 across both replicas", async () => {
    const { govs } = setup();
    const agent = { name: 'researcher', limits: { callsPerMinute: 5, costPerDay: 10 } };
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => govs[i % 2].reserve(req({ agent }))));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    for (const r of results) if (!r.ok) expect(r).toMatchObject({ reason: 'callsPerMinute', detail: '5' });
    const refused = results.find((r) => !r.ok);
    expect(refused && !refused.ok && refused.retryAfterMs).toBeGreaterThan(0);
    // the cost window: spend reaches the limit through one replica, the other refuses
    const costly = { name: 'writer', limits: { costPerDay: 10 } };
    expect((await govs[0].reserve(req({ agent: costly, task: { ...inTask('t6'), isNew: true } }))).ok).toBe(true);
    await govs[0].addCost('t6', 10, 'writer');
    expect(await govs[1].reserve(req({ agent: costly }))).toMatchObject({ ok: false, reason: 'costPerDay', detail: '10' });
  });

  it('rejects when Redis cannot be reached and reports the backend down', async () => {
    const { Redis } = await import('ioredis');
    const downs: boolean[] = [];
    const dead = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    dead.on('error', () => undefined);
    const g = new RedisGovernance({
      redis: dead,
      prefix: 'x:',
      onBackendUp: (up) => downs.push(up),
    });
    cleanup.push(() => g.close());
    await expect(g.reserve(req({ task: inTask('t5') }))).rejects.toThrow();
    expect(g.backendUp).toBe(false);
    expect(downs).toEqual([false]);
  });
});
