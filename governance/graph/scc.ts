/**
 * Strongly connected components (Tarjan, iterative so deep graphs cannot overflow the stack) and one
 * representative cycle per component. The aggregate call graph is small (agents, not calls), so this runs
 * whenever an edge appears or disappears.
 */
export type Adjacency = ReadonlyMap<string, readonly string[]>;

/** Components in reverse topological order; every node appears in exactly one. */
export function tarjan(adj: Adjacency): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  const nodes = new Set<string>();
  for (const [from, tos] of adj) {
    nodes.add(from);
    for (const t of tos) nodes.add(t);
  }
  for (const start of nodes) {
    if (index.has(start)) continue;
    // explicit DFS frames: node and position in its successor list
    const frames: { node: string; i: number }[] = [{ node: start, i: 0 }];
    index.set(start, next);
    low.set(start, next);
    next++;
    stack.push(start);
    onStack.add(start);
    while (frames.length) {
      const f = frames[frames.length - 1];
      const succ = adj.get(f.node) ?? [];
      if (f.i < succ.length) {
        const w = succ[f.i++];
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next);
          next++;
          stack.push(w);
          onStack.add(w);
          frames.push({ node: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(f.node, Math.min(low.get(f.node)!, index.get(w)!));
        }
        continue;
      }
      frames.pop();
      if (frames.length) {
        const parent = frames[frames.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(f.node)!));
      }
      if (low.get(f.node) === index.get(f.node)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== f.node);
        out.push(comp);
      }
    }
  }
  return out;
}

/** Components that contain a cycle: more than one node, or one node with an edge to itself. */
export function cyclicComponents(adj: Adjacency): string[][] {
  return tarjan(adj).filter((c) => c.length > 1 || (adj.get(c[0]) ?? []).includes(c[0]));
}

/**
 * A shortest cycle through the component's smallest node (stable across recomputations), as a closed path
 * [a, b, ..., a]. Breadth-first inside the component.
 */
export function cycleThrough(component: readonly string[], adj: Adjacency): string[] {
  const inComp = new Set(component);
  const start = [...component].sort()[0];
  const prev = new Map<string, string>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q];
    const succ = [...(adj.get(v) ?? [])].sort();
    for (const w of succ) {
      if (!inComp.has(w)) continue;
      if (w === start) {
        const back: string[] = [];
        for (let x = v; x !== start; x = prev.get(x)!) back.push(x);
        back.push(start);
        back.reverse();
        back.push(start);
        return back;
      }
      if (!prev.has(w) && w !== start) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
