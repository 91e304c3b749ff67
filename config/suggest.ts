/**
 * "did you mean maxDepth?" for an unknown config key: the keys the schema allows at that path, and the one
 * closest to what was typed (case-insensitive edit distance). Walks zod 4's schema definitions; anything it
 * does not know how to walk simply yields no suggestion.
 */
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: readonly z.ZodType[];
  getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a value at `path` may be (several for a union). */
function objectsAt(schema: z.ZodType, path: readonly PropertyKey[]): Def[] {
  const d = defOf(schema);
  const inner = d.innerType ?? d.in ?? (d.type === 'lazy' ? d.getter?.() : undefined);
  if (inner !== undefined && d.type !== 'object') return objectsAt(inner, path);
  if (d.type === 'union') return (d.options ?? []).flatMap((o) => objectsAt(o, path));
  if (path.length === 0) return d.type === 'object' ? [d] : [];
  const [head, ...rest] = path;
  if (d.type === 'object') {
    const next = d.shape?.[String(head)];
    return next === undefined ? [] : objectsAt(next, rest);
  }
  if (d.type === 'record' && d.valueType) return objectsAt(d.valueType, rest);
  if (d.type === 'array' && d.element) return objectsAt(d.element, rest);
  return [];
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The allowed key nearest to `key` at `path`, when it is close enough to be a typo. */
export function nearestKey(schema: z.ZodType, path: readonly PropertyKey[], key: string): string | undefined {
  const keys = objectsAt(schema, path).flatMap((d) => Object.keys(d.shape ?? {}));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of keys) {
    const dist = distance(key.toLowerCase(), k.toLowerCase());
    if (dist < bestDistance) [best, bestDistance] = [k, dist];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}
