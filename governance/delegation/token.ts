import type { DelegationKey, KeyLookup } from './keys.js';
import { decodeScope, type Scope } from './scope.js';

/**
 * The delegation context token, carried in the `tollgate-delegation` header:
 *
 *   v2.<kid>.<payload>.<base64url(HMAC-SHA256(key[kid], "v2.<kid>.<payload>"))>
 *
 * payload: "~"-separated text (a character that never occurs in a SPIFFE ID, a base64url id or a number):
 *   r ~ c ~ s ~ i ~ e ~ [!scope ~] hop0 ~ hop1 ~ ...
 *   r     root task id (128 random bits, base64url)
 *   c     id of the call that produced this token: the parent of every call made with it (fan-out, cost roll-up)
 *   s     root task start (ms): the deadline is checked from the token alone, even after a restart
 *   i, e  issued at = s + i, expires at = s + i + e (ms offsets)
 *   scope present only when a caller narrowed what its delegate may pass on (scope.ts): "!" + its text
 *   hops  SPIFFE IDs from the initiator to the callee of the call that produced it; a hop in the same trust
 *         domain as the hop before it is written as its path only ("/agent/writer"). depth = hops - 1.
 * Every character of it is one a SPIFFE ID, base64url or a decimal number can hold, all valid in a header
 * value, so the payload travels as it is: v1 base64url-encoded it, which cost an encode per sign and a decode
 * per verify and made it a third longer to hash. The payload may contain '.', so the token is split at its
 * first two dots and its last one (the MAC has none). The MAC is checked before any of the payload is read.
 * Why not JSON: measured on the 4-hop case, JSON.parse + stringify with short keys cost ~5 us of a ~14 us
 * verify + re-sign; this text is shorter, and a child's hop list is the parent's encoded list plus one hop
 * (chainText), so signing does not re-encode the chain.
 * Only the gateway signs and verifies (a MAC, not a signature): agents pass it along opaquely.
 */
export const DELEGATION_HEADER = 'tollgate-delegation';

export interface ContextPayload {
  readonly rootTaskId: string;
  readonly chain: readonly string[];
  readonly callId: string;
  readonly depth: number;
  readonly rootStartedAt: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** the chain as encoded in the token ("~"-joined, compressed hops), when known: saves re-encoding it */
  readonly chainText?: string;
  /** what the holder may pass on (attenuation, scope.ts); absent: no narrowing */
  readonly scope?: Scope;
}

export interface DelegationContext extends ContextPayload {
  readonly kid: string;
}

export type OpenFailure = 'context_malformed' | 'context_unknown_key' | 'context_bad_signature';
export type OpenResult = { ok: true; context: DelegationContext } | { ok: false; reason: OpenFailure; detail: string };

/** Longest header we look at: 64 hops of long IDs fit; anything bigger is refused before any crypto. */
export const MAX_TOKEN_LENGTH = 16 * 1024;
const MAC_B64_LENGTH = 43; // 32 bytes, unpadded base64url
const MAX_HOPS = 65; // maxDepth is at most 64 edges

/** HMAC-SHA256 of signed[0, length) as base64url text (see mac.ts for why not createHmac) */
function mac(key: DelegationKey, signed: string, length = signed.length): string {
  return key.hmac.macBase64url(signed, length);
}

/**
 * `token` from `from` on equals `expected`, compared in time independent of where they differ (no early
 * exit), so response timing tells a forger nothing about how much of a guessed MAC is right. Comparing the
 * canonical text also refuses every non-canonical spelling of the right MAC (no malleable token variants).
 */
function sameMac(token: string, from: number, expected: string): boolean {
  if (token.length - from !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= token.charCodeAt(from + i) ^ expected.charCodeAt(i);
  return diff === 0;
}

/** One hop as written after `prev`: its path only when both are in the same trust domain. */
export function encodeHop(prev: string, cur: string): string {
  const td = prev.indexOf('/', 9); // end of "spiffe://<trust domain>"
  return td > 0 && cur.length > td && cur.charCodeAt(td) === 47 && cur.startsWith(prev.slice(0, td)) ? cur.slice(td) : cur;
}

function encodeChain(h: readonly string[]): string {
  let text = h[0];
  for (let k = 1; k < h.length; k++) text += `~${encodeHop(h[k - 1], h[k])}`;
  return text;
}

function signedText(p: ContextPayload, key: DelegationKey, chainText: string): string {
  const scope = p.scope === undefined ? '' : `!${p.scope.text}~`;
  return `v2.${key.kid}.${p.rootTaskId}~${p.callId}~${p.rootStartedAt}~${p.issuedAt - p.rootStartedAt}~${p.expiresAt - p.issuedAt}~${scope}${chainText}`;
}

/** Sign a context with the given (current) key. */
export function signContext(p: ContextPayload, key: DelegationKey): string {
  const signed = signedText(p, key, p.chainText ?? encodeChain(p.chain));
  return `${signed}.${mac(key, signed)}`;
}

/** Sign a context, and return it as openContext would decode the token, with its MAC text (for IssuedContexts). */
export function issueContext(p: ContextPayload, key: DelegationKey): { token: string; mac: string; context: DelegationContext } {
  const chainText = p.chainText ?? encodeChain(p.chain);
  const signed = signedText(p, key, chainText);
  const macText = mac(key, signed);
  const token = `${signed}.${macText}`;
  // The token and the context are kept in IssuedContexts (thousands of them). Built by concatenation, the
  // token is a tree of V8 cons strings (~6 objects, measured in a heap snapshot) that nothing flattens:
  // writing the header flattens a copy. Reading one character flattens it in place, so GC keeps one flat
  // string; the context's chainText is then a slice of it rather than its own cons strings.
  token.charCodeAt(0);
  const context: DelegationContext = {
    rootTaskId: p.rootTaskId,
    chain: p.chain,
    callId: p.callId,
    depth: p.depth,
    rootStartedAt: p.rootStartedAt,
    issuedAt: p.issuedAt,
    expiresAt: p.expiresAt,
    chainText: token.slice(signed.length - chainText.length, signed.length),
    kid: key.kid,
  };
  if (p.scope !== undefined) (context as { scope?: Scope }).scope = p.scope;
  return { token, mac: macText, context };
}

/**
 * The decimal integer in token[from, to) (may be negative: a clock that went back across a restart), read
 * without slicing it out; NaN when it is empty, too long or not digits. The MAC already vouches for the
 * text: this only guards against our own encoding bugs.
 */
function int(token: string, from: number, to: number): number {
  let i = from;
  const neg = i < to && token.charCodeAt(i) === 45; /* - */
  if (neg) i++;
  if (i === to || to - i > 15) return NaN;
  let n = 0;
  for (; i < to; i++) {
    const d = token.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

function malformed(detail: string): OpenResult {
  return { ok: false, reason: 'context_malformed', detail };
}

/**
 * Check format and MAC, then decode. Does not check expiry or who presents it (decide.ts verifyContext does).
 * The MAC is compared before the payload is decoded, so attacker-chosen input never reaches the parser.
 */
export function openContext(token: string, keys: KeyLookup): OpenResult {
  if (typeof token !== 'string' || token.length === 0) return malformed('the header is empty');
  if (token.length > MAX_TOKEN_LENGTH) return malformed(`the header is longer than ${MAX_TOKEN_LENGTH} characters`);
  const d1 = token.indexOf('.');
  const d2 = token.indexOf('.', d1 + 1);
  const d3 = token.lastIndexOf('.');
  if (d1 < 0 || d2 < 0 || d3 <= d2) return malformed('expected v2.<kid>.<payload>.<mac>');
  if (d1 !== 2 || token.charCodeAt(0) !== 118 /* v */ || token.charCodeAt(1) !== 50 /* 2 */) return malformed('unsupported version (expected v2)');
  if (d2 === d1 + 1 || d3 === d2 + 1) return malformed('empty key id or payload');
  if (token.length - d3 - 1 !== MAC_B64_LENGTH) return malformed('the MAC has the wrong length');
  const kid = token.slice(d1 + 1, d2);
  const key = keys.get(kid);
  if (!key) return { ok: false, reason: 'context_unknown_key', detail: `unknown key id ${JSON.stringify(kid.slice(0, 40))}` };
  if (!sameMac(token, d3 + 1, mac(key, token, d3))) {
    return { ok: false, reason: 'context_bad_signature', detail: 'the MAC does not match (forged or altered context)' };
  }
  // A correct MAC means we wrote it; these checks catch version drift and our own bugs, not attackers.
  // Fields are found with indexOf and read in place: no split array, no strings for the numbers.
  const p0 = d2 + 1;
  const p1 = token.indexOf('~', p0);
  const p2 = p1 < 0 ? -1 : token.indexOf('~', p1 + 1);
  const p3 = p2 < 0 ? -1 : token.indexOf('~', p2 + 1);
  const p4 = p3 < 0 ? -1 : token.indexOf('~', p3 + 1);
  const p5 = p4 < 0 ? -1 : token.indexOf('~', p4 + 1);
  if (p5 < 0 || p5 >= d3) return malformed('bad field count');
  if (p1 === p0 || p2 === p1 + 1) return malformed('missing task or call id');
  const s = int(token, p2 + 1, p3);
  const i = s + int(token, p3 + 1, p4);
  const e = i + int(token, p4 + 1, p5);
  if (!Number.isSafeInteger(s) || !Number.isSafeInteger(i) || !Number.isSafeInteger(e) || e <= i) return malformed('bad timestamps');
  let chainAt = p5 + 1;
  let scope: Scope | undefined;
  if (token.charCodeAt(chainAt) === 33 /* ! */) {
    const end = token.indexOf('~', chainAt);
    if (end < 0 || end >= d3) return malformed('bad scope field');
    scope = decodeScope(token.slice(chainAt + 1, end));
    if (scope === undefined) return malformed('bad scope field');
    chainAt = end + 1;
  }
  const chain: string[] = [];
  for (let at = chainAt; at <= d3;) {
    let end = token.indexOf('~', at);
    if (end < 0 || end > d3) end = d3;
    if (end === at) return malformed('empty hop');
    if (token.charCodeAt(at) === 47 /* / */) {
      if (chain.length === 0) return malformed('the first hop must be a full SPIFFE ID');
      const prev = chain[chain.length - 1];
      const td = prev.indexOf('/', 9);
      if (td < 0) return malformed('bad hop');
      chain.push(prev.slice(0, td) + token.slice(at, end));
    } else {
      if (!token.startsWith('spiffe://', at)) return malformed('bad hop');
      chain.push(token.slice(at, end));
    }
    if (chain.length > MAX_HOPS) return malformed('bad field count');
    at = end + 1;
  }
  if (chain.length < 2) return malformed('bad field count');
  const chainText = token.slice(chainAt, d3);
  const r = token.slice(p0, p1);
  const c = token.slice(p1 + 1, p2);
  const context: DelegationContext = { rootTaskId: r, chain, callId: c, depth: chain.length - 1, rootStartedAt: s, issuedAt: i, expiresAt: e, chainText, kid };
  if (scope !== undefined) (context as { scope?: Scope }).scope = scope;
  return { ok: true, context };
}
