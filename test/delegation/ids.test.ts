import { describe, expect, it } from 'vitest';
import { newRootTaskId } from '../../governance/delegation/ids.js';

describe('root task ids', () => {
  it('are 22 base64url characters that never start with "-" or "_" (they are pasted into command lines)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = newRootTaskId();
      expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(20_000);
  });
});
