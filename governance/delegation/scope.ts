import { parseDuration } from '../../config/duration.js';

/**
 * Attenuation: a caller narrows what its delegate may pass on. With the request header
 *
 *   tollgate-scope: agents=writer,reviewer; methods=SendMessage,GetTask; deadline=30s; maxCost=5
 *
 * the context the gateway signs for the callee carries the scope, and every onward call made with that
 * context must stay inside it: to one of `agents`, with one of `methods`, before `deadline` (from now), while
 * the root task's cost is under `maxCost`. Each key is optional. A scope only ever narrows along the chain:
 * a delegate that sends its own header gets the intersection (agents and methods intersected, the earlier
 * deadline, the lower cost cap), never more than it was given. `agents=` with no names allows no onward call.
 *
 * In the token the scope is one field, "!" + its canonical text (a=..;m=..;d=<ms>;k=<cost>), covered by the MAC.
 */
export const SCOPE_HEADER = 'tollgate-scope';
const MAX_SCOPE_HEADER = 4096;
const AGENT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface Scope {
  readonly agents: ReadonlySet<string> | undefined;
  readonly methods: ReadonlySet<string> | undefined;
  /** absolute time (ms) after which no onward call is allowed */
  readonly deadline: number | undefined;
  /** onward calls stop once the root task's cost reaches this */
  readonly maxCost: number | undefined;
  /** canonical encoding, signed into the context */
  readonly text: string;
}

export type ScopeParse = { ok: true; scope: Scope } | { ok: false; message: string };

function makeScope(agents: ReadonlySet<string> | undefined, methods: ReadonlySet<string> | undefined, deadline?: number, maxCost?: number): Scope {
  const parts: string[] = [];
  if (agents !== undefined) parts.push(`a=${[...agents].sort().join(',')}`);
  if (methods !== undefined) parts.push(`m=${[...methods].sort().join(',')}`);
  if (deadline !== undefined) parts.push(`d=${deadline}`);
  if (maxCost !== undefined) parts.push(`k=${maxCost}`);
  return { agents, methods, deadline, maxCost, text: parts.join(';') };
}

function list(v: string): string[] {
  return v === '' ? [] : v.split(',').map((x) => x.trim());
}

/**
 * Parse a `tollgate-scope` header sent by a caller. `canonicalMethod` names an A2A method in its canonical
 * form (v0.3 and v1.0 spellings), undefined for anything else.
 */
export function parseScopeHeader(value: string, now: number, canonicalMethod: (m: string) => string | undefined): ScopeParse {
  const bad = (message: string): ScopeParse => ({ ok: false, message: `the ${SCOPE_HEADER} header is invalid: ${message}` });
  if (value.length > MAX_SCOPE_HEADER) return bad(`longer than ${MAX_SCOPE_HEADER} characters`);
  let agents: Set<string> | undefined;
  let methods: Set<string> | undefined;
  let deadline: number | undefined;
  let maxCost: number | undefined;
  const seen = new Set<string>();
  for (const raw of value.split(';')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) return bad(`"${item.slice(0, 40)}" is not key=value (keys: agents, methods, deadline, maxCost)`);
    const key = item.slice(0, eq).trim();
    const v = item.slice(eq + 1).trim();
    if (seen.has(key)) return bad(`${key} is given twice`);
    seen.add(key);
    switch (key) {
      case 'agents':
        agents = new Set();
        for (const a of list(v)) {
          if (!AGENT_NAME.test(a)) return bad(`"${a.slice(0, 64)}" is not an agent name`);
          agents.add(a);
        }
        break;
      case 'methods':
        methods = new Set();
        for (const m of list(v)) {
          const c = canonicalMethod(m);
          if (c === undefined) return bad(`"${m.slice(0, 64)}" is not an A2A method (use e.g. SendMessage or message/send)`);
          methods.add(c);
        }
        break;
      case 'deadline': {
        const ms = parseDuration(v);
        if (ms === null || ms <= 0) return bad(`deadline "${v.slice(0, 40)}" is not a positive duration such as 30s or 5m`);
        deadline = now + ms;
        break;
      }
      case 'maxCost': {
        const n = v === '' ? NaN : Number(v);
        if (!Number.isFinite(n) || n < 0) return bad(`maxCost "${v.slice(0, 40)}" is not a non-negative number`);
        maxCost = n;
        break;
      }
      default:
        return bad(`unknown key "${key.slice(0, 40)}" (keys: agents, methods, deadline, maxCost)`);
    }
  }
  if (seen.size === 0) return bad('it names no limit (keys: agents, methods, deadline, maxCost)');
  return { ok: true, scope: makeScope(agents, methods, deadline, maxCost) };
}

function intersect(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): ReadonlySet<string> | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out = new Set<string>();
  for (const x of a) if (b.has(x)) out.add(x);
  return out;
}

function lower(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/** The scope of a child context: the parent's, narrowed by what the caller asked; never wider than either. */
export function narrowScope(parent: Scope | undefined, asked: Scope | undefined): Scope | undefined {
  if (asked === undefined) return parent;
  if (parent === undefined) return asked;
  return makeScope(
    intersect(parent.agents, asked.agents),
    intersect(parent.methods, asked.methods),
    lower(parent.deadline, asked.deadline),
    lower(parent.maxCost, asked.maxCost),
  );
}

/** Decode a scope field written by makeScope (the MAC vouches for it); undefined when it is not one. */
export function decodeScope(text: string): Scope | undefined {
  let agents: Set<string> | undefined;
  let methods: Set<string> | undefined;
  let deadline: number | undefined;
  let maxCost: number | undefined;
  for (const part of text === '' ? [] : text.split(';')) {
    const v = part.slice(2);
    switch (part.slice(0, 2)) {
      case 'a=':
        agents = new Set(list(v));
        break;
      case 'm=':
        methods = new Set(list(v));
        break;
      case 'd=':
        deadline = Number(v);
        if (!Number.isSafeInteger(deadline)) return undefined;
        break;
      case 'k=':
        maxCost = Number(v);
        if (!Number.isFinite(maxCost)) return undefined;
        break;
      default:
        return undefined;
    }
  }
  return { agents, methods, deadline, maxCost, text };
}

/** Why an onward call leaves the scope (undefined: it stays inside). */
export function scopeViolation(scope: Scope, callee: string, method: string, now: number, taskCost: number): string | undefined {
  if (scope.agents !== undefined && !scope.agents.has(callee)) {
    const names = [...scope.agents].join(', ');
    return `the delegated scope allows onward calls ${names === '' ? 'to no agent' : `only to ${names}`}, not to "${callee}"`;
  }
  if (scope.methods !== undefined && !scope.methods.has(method)) {
    return `the delegated scope allows only the methods ${[...scope.methods].join(', ') || '(none)'}, not ${method}`;
  }
  if (scope.deadline !== undefined && now >= scope.deadline) {
    return `the delegated scope's deadline passed ${Math.ceil((now - scope.deadline) / 1000)}s ago`;
  }
  if (scope.maxCost !== undefined && taskCost >= scope.maxCost) {
    return `the delegated scope's cost cap ${scope.maxCost} is reached (the task has cost ${Math.round(taskCost * 1e6) / 1e6})`;
  }
  return undefined;
}
