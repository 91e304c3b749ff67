import { PUSH_ROUTE_PREFIX } from '../../protocol/push.js';

/**
 * Stage "route": the request target -> which agent, which upstream path. Pure.
 *
 * The target is checked BEFORE anything else reads it, and never decoded: anything that could mean a
 * different path to some parser along the way (dot segments, encoded '/', '\' or '.', encoded '%',
 * backslashes, empty segments, control characters, absolute-form targets) is refused with 400 rather
 * than guessed at. What passes is forwarded byte for byte after the agent's base path, so a caller can
 * never reach another agent or a path outside its agent's base.
 */
export type Route =
  | { kind: 'directory' }
  | { kind: 'keys' }
  | { kind: 'card'; agent: string }
  | { kind: 'call'; agent: string; /** after /a2a/<agent>, '' or starting with '/' */ rest: string; /** '' or '?...' */ query: string }
  /** a push notification for agent `agent` (the receiver): /a2a-push/<agent>/<rest> (protocol/push.ts) */
  | { kind: 'push'; agent: string; rest: string; query: string }
  | { kind: 'error'; status: 400 | 404; reason: 'bad_path' | 'unknown_agent' | 'no_route' | 'card_without_agent'; message: string };

// RFC 3986 pchar + '/': unreserved, pct-encoded, sub-delims, ':' and '@'. No '\', no '#', no spaces.
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;
const PCT = /%([0-9A-Fa-f]{2})?/g;

function bad(message: string): Route {
  return { kind: 'error', status: 400, reason: 'bad_path', message };
}

/** Encoded bytes that could change the path's meaning once some later hop decodes it. */
function dangerousEscape(hex: string): boolean {
  const c = parseInt(hex, 16);
  return c === 0x2f || c === 0x5c || c === 0x2e || c === 0x25 || c < 0x20 || c === 0x7f;
}

/** Check a raw path; returns an error message or null when it is clean. */
export function checkPath(path: string): string | null {
  if (path.length === 0 || path.charCodeAt(0) !== 0x2f) return 'the request target must be an absolute path starting with "/"';
  if (!PATH_CHARS.test(path)) return 'the path has a character that is not allowed (backslash, space, control or non-ASCII): percent-encode it';
  if (path.includes('%')) {
    for (const m of path.matchAll(PCT)) {
      if (m[1] === undefined) return 'the path has a malformed percent-escape';
      if (dangerousEscape(m[1]))
        return `the path has an encoded "${m[0]}" (an encoded slash, backslash, dot, percent or control character), which the gateway refuses`;
    }
  }
  if (path.includes('//')) return 'the path has an empty segment ("//")';
  if (path.includes('/.')) {
    for (const seg of path.split('/')) {
      if (seg === '.' || seg === '..') return `the path has a "${seg}" segment`;
    }
  }
  return null;
}

import { JWKS_PATH } from '../a2a/card-signing.js';

const CARD_PATHS = new Set(['/.well-known/agent-card.json', '/.well-known/agent.json']);

/**
 * Decide the route of `target` (req.url). `hasAgent` tells whether a name is registered.
 * `httpMethod` matters only for discovery (cards are GET/HEAD).
 */
export function decideRoute(target: string, httpMethod: string, hasAgent: (name: string) => boolean): Route {
  const q = target.indexOf('?');
  const path = q >= 0 ? target.slice(0, q) : target;
  const query = q >= 0 ? target.slice(q) : '';
  const err = checkPath(path);
  if (err !== null) return bad(err);
  if (query.length > 0 && (!QUERY_CHARS.test(query.slice(1)) || query.includes('#')))
    return bad('the query has a character that is not allowed: percent-encode it');
  if (path === '/a2a' || path === '/a2a/') return { kind: 'directory' };
  if (path === JWKS_PATH && (httpMethod === 'GET' || httpMethod === 'HEAD')) return { kind: 'keys' };
  let start = 5;
  if (!path.startsWith('/a2a/')) {
    if (!path.startsWith(PUSH_ROUTE_PREFIX))
      return { kind: 'error', status: 404, reason: 'no_route', message: 'no such route: A2A calls go to /a2a/<agent>/..., pushes to /a2a-push/<agent>/...' };
    start = PUSH_ROUTE_PREFIX.length;
  }
  const slash = path.indexOf('/', start);
  const agent = slash < 0 ? path.slice(start) : path.slice(start, slash);
  if (!hasAgent(agent)) {
    if (start === 5 && agent === '.well-known') return cardWithoutAgent(path);
    return {
      kind: 'error',
      status: 404,
      reason: 'unknown_agent',
      message: `no agent named "${agent.length > 64 ? agent.slice(0, 61) + '...' : agent}" is registered`,
    };
  }
  const rest = slash < 0 ? '' : path.slice(slash);
  if (start !== 5) return { kind: 'push', agent, rest, query };
  if ((httpMethod === 'GET' || httpMethod === 'HEAD') && CARD_PATHS.has(rest)) return { kind: 'card', agent };
  return { kind: 'call', agent, rest, query };
}

/**
 * `/a2a/.well-known/agent-card.json`: an SDK given `https://<gateway>/a2a/<agent>` (no trailing slash)
 * resolves the card relative to `/a2a/` and lands here. Say how to fix the URL instead of "no agent named
 * .well-known". Only reached on the unknown-agent branch: nothing on the call path pays for it.
 */
function cardWithoutAgent(path: string): Route {
  const card = path.slice('/a2a/'.length);
  return {
    kind: 'error',
    status: 404,
    reason: 'card_without_agent',
    message:
      `no agent card at /a2a/${card}: the calling URL lacks the agent's trailing slash. ` +
      `Use https://<gateway>/a2a/<agent>/ (with the final "/"), whose card is /a2a/<agent>/${card}`,
  };
}

/** The upstream request path: the agent's base path (no trailing '/') + rest + query; never empty. */
export function upstreamPath(basePath: string, rest: string, query: string): string {
  const p = basePath + rest;
  return (p.length === 0 ? '/' : p) + query;
}
