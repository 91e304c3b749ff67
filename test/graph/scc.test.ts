import { describe, expect, it } from 'vitest';
import { cycleThrough, cyclicComponents, tarjan } from '../../governance/graph/scc.js';

const adj = (edges: string[]) => {
  const m = new Map<string, string[]>();
  for (const e of edges) {
    const [a, b] = e.split('>');
    m.set(a, [...(m.get(a) ?? []), b]);
  }
  return m;
};
const norm = (comps: string[][]) => comps.map((c) => [...c].sort().join('')).sort();

describe('Tarjan SCC', () => {
  it('finds components, including separate rings and a self-loop, and ignores acyclic parts', () => {
    const g = adj(['a>b', 'b>c', 'c>a', 'c>d', 'd>e', 'e>d', 'f>f', 'g>h']);
    expect(norm(tarjan(g))).toEqual(['abc', 'de', 'f', 'g', 'h']);
    expect(norm(cyclicComponents(g))).toEqual(['abc', 'de', 'f']);
  });

  it('handles a long chain without recursion limits', () => {
    const edges: string[] = [];
    for (let i = 0; i < 20_000; i++) edges.push(`n${i}>n${i + 1}`);
    edges.push('n20000>n0');
    const comps = cyclicComponents(adj(edges));
    expect(comps).toHaveLength(1);
    expect(comps[0]).toHaveLength(20_001);
  });

  it('cycleThrough returns a closed shortest path through the smallest node', () => {
    const g = adj(['b>c', 'c>a', 'a>b', 'a>c']);
    expect(cycleThrough(['a', 'b', 'c'], g)).toEqual(['a', 'c', 'a']);
    expect(cycleThrough(['f'], adj(['f>f']))).toEqual(['f', 'f']);
    expect(cycleThrough(['x', 'y', 'z'], adj(['x>y', 'y>z', 'z>x']))).toEqual(['x', 'y', 'z', 'x']);
  });
});
