import { describe, expect, it } from 'vitest';
import { LruTaskOwners, TieredTaskOwners, type TaskOwners } from '../../proxy/a2a/task-owners.js';
import { taskOwnersContract, type TaskOwnersFixture } from '../contracts/task-owners.js';
import { FakeClock } from '../fakes/clock.js';

const DAY = 86_400_000;

/** a fixture whose records expire when its clock is moved a day on */
function fixture(clock: FakeClock, owners: TaskOwners, other: () => TaskOwners): Promise<TaskOwnersFixture> {
  return Promise.resolve({
    owners,
    other: () => Promise.resolve(other()),
    expireAll: () => {
      clock.advance(DAY);
      return Promise.resolve();
    },
  });
}

taskOwnersContract('LruTaskOwners (one process)', () => {
  const clock = new FakeClock(1_000);
  const owners = new LruTaskOwners(1000, DAY, clock.now);
  return fixture(clock, owners, () => owners);
});

taskOwnersContract('TieredTaskOwners (a local cache in front of a shared store)', () => {
  const clock = new FakeClock(1_000);
  const shared = new LruTaskOwners(1000, DAY, clock.now);
  const replica = () => new TieredTaskOwners(new LruTaskOwners(1000, DAY, clock.now), shared);
  return fixture(clock, replica(), replica);
});

describe('LruTaskOwners', () => {
  it('holds at most maxEntries records: the oldest go first', async () => {
    const o = new LruTaskOwners(3, DAY);
    for (let i = 0; i < 5; i++) await o.recordOwner('w', `t${i}`, 'spiffe://x/a');
    expect(o.size).toBe(3);
    expect(await o.ownersOf('w', ['t0', 't1', 't2', 't3', 't4'])).toEqual([undefined, undefined, 'spiffe://x/a', 'spiffe://x/a', 'spiffe://x/a']);
  });

  it('a record is there the moment recordOwner returns (no await needed: the next call sees it)', () => {
    const o = new LruTaskOwners(10, DAY);
    void o.recordOwner('w', 't', 'spiffe://x/a');
    expect(o.owner('w', 't')).toBe('spiffe://x/a');
  });

  it('a record lives ttl from when it was made', async () => {
    const clock = new FakeClock(0);
    const o = new LruTaskOwners(10, 1000, clock.now);
    await o.recordOwner('w', 't', 'spiffe://x/a');
    clock.advance(999);
    expect(await o.ownerOf('w', 't')).toBe('spiffe://x/a');
    clock.advance(1);
    expect(await o.ownerOf('w', 't')).toBeUndefined();
    expect(o.size).toBe(0);
  });
});
