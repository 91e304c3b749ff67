import { CertError } from './errors.js';

/**
 * SPIFFE ID parsing per the SPIFFE-ID standard (spiffe/spiffe standards/SPIFFE-ID.md):
 *   spiffe://<trust-domain>/<path>
 * - scheme `spiffe`, no userinfo, port, query or fragment
 * - trust domain: lowercase letters, digits, '.', '-', '_' only (no percent-encoding), 1..255 bytes
 * - path: '/'-separated segments of [A-Za-z0-9.-_], none empty, '.' or '..', no trailing '/'
 * - whole ID at most 2048 bytes
 * Only the canonical form is accepted: an upper-case scheme or trust domain is refused, never folded
 * (as go-spiffe and SPIRE do). Folding would turn an identity read from a peer certificate into another
 * one, and `uri` is then always exactly the input.
 */
export interface SpiffeId {
  readonly trustDomain: string;
  /** '' for a trust domain ID, otherwise starts with '/' */
  readonly path: string;
  /** canonical string form */
  readonly uri: string;
}

export const MAX_SPIFFE_ID_BYTES = 2048;
export const MAX_TRUST_DOMAIN_BYTES = 255;

const TD_CHARS = /^[a-z0-9._-]+$/;
const TD_CHARS_ANY_CASE = /^[A-Za-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

function fail(input: string, rule: string): never {
  const shown = input.length > 80 ? `${input.slice(0, 77)}...` : input;
  throw new CertError('spiffe_id_invalid', `invalid SPIFFE ID ${JSON.stringify(shown)}: ${rule}`);
}

/** Parse and validate a SPIFFE ID. Throws CertError('spiffe_id_invalid') naming the rule that failed. */
export function parseSpiffeId(input: string): SpiffeId {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- input comes from config and the wire: typed string, not always one
  if (typeof input !== 'string' || input.length === 0) fail(String(input ?? ''), 'it is empty');
  if (Buffer.byteLength(input, 'utf8') > MAX_SPIFFE_ID_BYTES) fail(input, `it is longer than ${MAX_SPIFFE_ID_BYTES} bytes`);
  const sep = input.indexOf('://');
  if (sep < 0) fail(input, 'it must start with spiffe://');
  const scheme = input.slice(0, sep);
  if (scheme !== 'spiffe') fail(input, scheme.toLowerCase() === 'spiffe' ? 'the scheme must be "spiffe" in lower case' : 'the scheme must be "spiffe"');
  const rest = input.slice(sep + 3);
  if (rest.includes('?')) fail(input, 'a query is not allowed');
  if (rest.includes('#')) fail(input, 'a fragment is not allowed');
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  if (authority.length === 0) fail(input, 'the trust domain is missing');
  if (authority.includes('@')) fail(input, 'userinfo is not allowed in the trust domain');
  if (authority.includes(':')) fail(input, 'a port is not allowed in the trust domain');
  if (authority.includes('%')) fail(input, 'percent-encoding is not allowed in the trust domain');
  if (Buffer.byteLength(authority, 'utf8') > MAX_TRUST_DOMAIN_BYTES) {
    fail(input, `the trust domain is longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`);
  }
  if (!TD_CHARS.test(authority)) {
    if (TD_CHARS_ANY_CASE.test(authority)) fail(input, `the trust domain ${JSON.stringify(authority)} has upper-case letters; a trust domain is lower case`);
    // eslint-disable-next-line @typescript-eslint/no-misused-spread -- by code point on purpose: name the whole offending character, not half a surrogate pair
    const ch = [...authority].find((c) => !TD_CHARS_ANY_CASE.test(c)) ?? '';
    fail(input, `the trust domain has the character ${JSON.stringify(ch)}; only a-z, 0-9, '.', '-' and '_' are allowed`);
  }
  const td = authority;
  if (path.length > 0) {
    if (path.endsWith('/')) fail(input, 'the path must not end with "/"');
    const segments = path.slice(1).split('/');
    for (const seg of segments) {
      if (seg.length === 0) fail(input, 'the path has an empty segment ("//")');
      if (seg === '.' || seg === '..') fail(input, `the path must not contain a "${seg}" segment`);
      if (seg.includes('%')) fail(input, 'percent-encoding is not allowed in the path');
      if (!SEGMENT.test(seg)) fail(input, `the path segment ${JSON.stringify(seg)} has a character outside A-Z, a-z, 0-9, '.', '-', '_'`);
    }
  }
  return { trustDomain: td, path, uri: `spiffe://${td}${path}` };
}

/** Validate a bare trust domain name (as used in config). */
export function parseTrustDomain(input: string): string {
  if (typeof input === 'string' && input.includes('://')) fail(input, 'a trust domain is a bare name like example.org, without a scheme');
  const id = parseSpiffeId(`spiffe://${input}`);
  if (id.path !== '') fail(input, 'a trust domain has no path');
  return id.trustDomain;
}

/** A workload ID: a SPIFFE ID with a non-root path (what an SVID leaf must carry). */
export function parseWorkloadId(input: string): SpiffeId {
  const id = parseSpiffeId(input);
  if (id.path === '') fail(input, 'a workload SPIFFE ID needs a path (spiffe://<trust-domain>/<path>)');
  return id;
}

/** The ID itself once validated: only canonical IDs parse (kept for callers that want a string back). */
export function canonicalSpiffeId(input: string): string {
  return parseSpiffeId(input).uri;
}

/** The last path segment, handy as a short display name (spiffe://td/agent/writer -> writer). */
export function shortName(id: string): string {
  const i = id.lastIndexOf('/');
  return i >= 0 && i < id.length - 1 ? id.slice(i + 1) : id;
}
