import { describe, expect, it } from 'vitest';
import { Lru } from '../../governance/graph/lru.js';

describe('Lru', () => {
  it('keeps use order through set, touch, delete and shift', () => {
    const l = new Lru<string, number>();
    for (const [k, v] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ] as const)
      l.set(k, v);
    l.touch('a');
    expect(l.values()).toEqual([2, 3, 1]);
    l.set('b', 20); // replace = use
    expect(l.values()).toEqual([3, 1, 20]);
    expect(l.delete('1')).toBe(false);
    expect(l.delete('a')).toBe(true);
    expect(l.shift()).toBe(3);
    expect(l.values()).toEqual([20]);
    expect(l.size).toBe(1);
    expect(l.shift()).toBe(20);
    expect(l.shift()).toBeUndefined();
    l.set('z', 26);
    expect(l.get('z')).toBe(26);
    expect(l.values()).toEqual([26]);
  });

  it('walkOldest can stop early and delete the entry it visits', () => {
    const l = new Lru<number, number>();
    for (let i = 0; i < 10; i++) l.set(i, i);
    const seen: number[] = [];
    l.walkOldest((v, k) => {
      seen.push(v);
      if (v % 2 === 0) l.delete(k);
      return seen.length >= 6;
    });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(l.values()).toEqual([1, 3, 5, 6, 7, 8, 9]);
  });
});
