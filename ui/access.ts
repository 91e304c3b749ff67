import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList } from 'node:net';
import { ipFamily } from '../certs/ip.js';

/**
 * Who may see the graph page. The page names every agent, edge and task, so it is loopback-only by default;
 * exposing it further is an operator's choice that must come with a token. Pure: no sockets, testable as is.
 */
export interface AccessPolicy {
  loopbackOnly: boolean;
  /** required when !loopbackOnly; when set with loopbackOnly, it is required as well */
  token?: string;
}

export interface AccessRequest {
  /** req.socket.remoteAddress (undefined when the socket is already gone: refused) */
  remoteAddress: string | undefined;
  /** `token` query parameter */
  queryToken: string | null;
  /** Authorization header */
  authorization: string | undefined;
}

export type AccessVerdict = { ok: true } | { ok: false; status: 401 | 403; message: string };

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8 and ::1, including IPv4-mapped 127.x (a dual-stack listener reports ::ffff:127.0.0.1). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v = ipFamily(address);
  return v !== 0 && LOOPBACK.check(address, v === 6 ? 'ipv6' : 'ipv4');
}

/** The bearer token of an `Authorization: Bearer <t>` header, else null. */
export function bearerToken(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  return m ? m[1] : null;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time in the token's content and length: both sides are hashed to 32 bytes first. */
export function tokenMatches(expected: string, presented: string | null): boolean {
  if (presented === null) return false;
  return timingSafeEqual(digest(expected), digest(presented));
}

const LOOPBACK_ONLY: AccessVerdict = { ok: false, status: 403, message: 'the graph page is served to loopback clients only (set a token to expose it)' };
const OK: AccessVerdict = { ok: true };

/** For the page's scripts, which carry no data: only the peer check applies. */
export function decidePeerAccess(policy: AccessPolicy, remoteAddress: string | undefined): AccessVerdict {
  return policy.loopbackOnly && !isLoopback(remoteAddress) ? LOOPBACK_ONLY : OK;
}

/** For the page and its data: the peer check, then the token when one is configured (required when exposed). */
export function decideAccess(policy: AccessPolicy, req: AccessRequest): AccessVerdict {
  const peer = decidePeerAccess(policy, req.remoteAddress);
  if (!peer.ok) return peer;
  const token = policy.token;
  if (token === undefined || token === '') {
    // fail closed: an exposed page without a token is a misconfiguration that createGraphPage rejects too
    return policy.loopbackOnly ? OK : { ok: false, status: 403, message: 'the graph page has no token configured' };
  }
  const presented = req.queryToken ?? bearerToken(req.authorization);
  if (!tokenMatches(token, presented)) {
    return { ok: false, status: 401, message: presented === null ? 'a token is required (?token= or Authorization: Bearer)' : 'wrong token' };
  }
  return OK;
}

/**
 * The policy for a listener on `host`: loopback-only when the listener itself is only reachable from this
 * machine (then a token is optional); otherwise the token is required (createGraphPage refuses none).
 */
export function listenerAccess(host: string, token: string | undefined): AccessPolicy {
  return { loopbackOnly: isLoopback(host) || host === 'localhost', token };
}
