/**
 * The TaskOwners contract (proxy/a2a/task-owners.ts), run against every implementation: in one process
 * (LruTaskOwners), on Redis (RedisTaskOwners), and the tiered pair a fleet replica uses. Each implementation's
 * test file calls taskOwnersContract with a way to open a fresh, empty store.
 */
import { describe, expect, it } from 'vitest';
import type { TaskOwners } from '../../proxy/a2a/task-owners.js';

export interface TaskOwnersFixture {
  owners: TaskOwners;
  /** another handle on the same records, as another replica holds it (the same object for one process) */
  other(): Promise<TaskOwners>;
  /** let every record outlive its ttl (advance the clock, or expire the keys), resolving once they are gone */
  expireAll(): Promise<void>;
}

const A = 'spiffe://example.org/agent/alice';
const B = 'spiffe://example.org/agent/mallory';

export function taskOwnersContract(name: string, open: () => Promise<TaskOwnersFixture>): void {
  describe(`TaskOwners contract: ${name}`, () => {
    it('knows no task until its owner is recorded, then names the owner', async () => {
      const { owners } = await open();
      expect(await owners.ownerOf('writer', 't-1')).toBeUndefined();
      await owners.recordOwner('writer', 't-1', A);
      expect(await owners.ownerOf('writer', 't-1')).toBe(A);
    });

    it('the first record wins: a later one for the same task never changes its owner', async () => {
      const { owners } = await open();
      await owners.recordOwner('writer', 't-2', A);
      await owners.recordOwner('writer', 't-2', B);
      expect(await owners.ownerOf('writer', 't-2')).toBe(A);
    });

    it('tasks are per callee: the same id at another agent is another task', async () => {
      const { owners } = await open();
      await owners.recordOwner('writer', 'same', A);
      await owners.recordOwner('reader', 'same', B);
      expect(await owners.ownerOf('writer', 'same')).toBe(A);
      expect(await owners.ownerOf('reader', 'same')).toBe(B);
      expect(await owners.ownerOf('other', 'same')).toBeUndefined();
      // names that could run into each other if keys were joined carelessly
      await owners.recordOwner('a', 'b:c', A);
      expect(await owners.ownerOf('a:b', 'c')).toBeUndefined();
    });

    it('ownersOf answers for a page of tasks, in order, unknown ones undefined', async () => {
      const { owners } = await open();
      await owners.recordOwner('writer', 'p-1', A);
      await owners.recordOwner('writer', 'p-3', B);
      expect(await owners.ownersOf('writer', ['p-1', 'p-2', 'p-3'])).toEqual([A, undefined, B]);
      expect(await owners.ownersOf('writer', [])).toEqual([]);
    });

    it('another handle sees the same records', async () => {
      const f = await open();
      await f.owners.recordOwner('writer', 'shared', A);
      const other = await f.other();
      expect(await other.ownerOf('writer', 'shared')).toBe(A);
      await other.recordOwner('writer', 'shared', B);
      expect(await f.owners.ownerOf('writer', 'shared')).toBe(A);
    });

    it('of many concurrent records for one task exactly one owner wins, and every reader agrees', async () => {
      const f = await open();
      const other = await f.other();
      const callers = Array.from({ length: 10 }, (_, i) => `spiffe://example.org/agent/c${i}`);
      await Promise.all(callers.map((c, i) => (i % 2 ? other : f.owners).recordOwner('writer', 'race', c)));
      const a = await f.owners.ownerOf('writer', 'race');
      expect(callers).toContain(a);
      expect(await other.ownerOf('writer', 'race')).toBe(a);
    });

    it('records expire', async () => {
      const f = await open();
      await f.owners.recordOwner('writer', 'old', A);
      await f.expireAll();
      expect(await f.owners.ownerOf('writer', 'old')).toBeUndefined();
      // and the task can then be recorded anew
      await f.owners.recordOwner('writer', 'old', B);
      expect(await f.owners.ownerOf('writer', 'old')).toBe(B);
    });
  });
}
