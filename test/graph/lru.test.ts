import { describe, expect, it } from 'vitest';
import { LinkedLru, Lru, type LruLinks } from '../../governance/graph/lru.js';

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

interface Item extends LruLinks<Item> {
  k: string;
}

describe('LinkedLru', () => {
  const item = (k: string): Item => ({ k, lruOlder: undefined, lruNewer: undefined });
  const keys = (l: LinkedLru<string, Item>) => l.values().map((v) => v.k);

  it('keeps use order in the values themselves, like Lru', () => {
    const l = new LinkedLru<string, Item>();
    const [a, b, c] = ['a', 'b', 'c'].map(item);
    for (const v of [a, b, c]) l.set(v.k, v);
    l.touch(a);
    expect(keys(l)).toEqual(['b', 'c', 'a']);
    const b2 = item('b');
    l.set('b', b2); // replace = use; the old value is unlinked
    expect(keys(l)).toEqual(['c', 'a', 'b']);
    expect(l.has(b)).toBe(false);
    expect(l.get('b')).toBe(b2);
    expect(l.delete('x')).toBe(false);
    expect(l.delete('a')).toBe(true);
    expect(l.has(a)).toBe(false);
    l.touch(a); // no longer here: left alone
    expect(keys(l)).toEqual(['c', 'b']);
    expect(l.oldestValue()).toBe(c);
    expect(l.shift((v) => v.k)).toBe(c);
    expect(l.size).toBe(1);
    expect(l.has(b2)).toBe(true);
    expect(l.shift((v) => v.k)).toBe(b2);
    expect(l.shift((v) => v.k)).toBeUndefined();
    expect(l.size).toBe(0);
    l.set('z', item('z'));
    expect(keys(l)).toEqual(['z']);
  });

  it('walkOldest can stop early and delete the value it visits; oldest() fills a reused array', () => {
    const l = new LinkedLru<string, Item>();
    for (let i = 0; i < 10; i++) l.set(String(i), item(String(i)));
    const seen: string[] = [];
    l.walkOldest((v) => {
      seen.push(v.k);
      if (Number(v.k) % 2 === 0) l.delete(v.k);
      return seen.length >= 6;
    });
    expect(seen).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(keys(l)).toEqual(['1', '3', '5', '6', '7', '8', '9']);
    const out: Item[] = [item('stale')];
    expect(l.oldest(3, out).map((v) => v.k)).toEqual(['1', '3', '5']);
    expect(out).toHaveLength(3);
  });
});
