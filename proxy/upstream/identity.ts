import type { PeerCertificate } from 'node:tls';
import { validateSvid, type TrustBundle } from '../../certs/index.js';

/**
 * The upstream must present the SPIFFE ID registered for its agent. Checked from the DER certificate
 * (validateSvid, usage server), never from the hostname: agents are addressed by IP or internal names that
 * say nothing about who answers.
 */
export class UpstreamIdentityError extends Error {
  readonly code = 'ERR_TOLLGATE_UPSTREAM_IDENTITY';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamIdentityError';
  }
}

export interface UpstreamTrust {
  bundle: TrustBundle;
  bundleDer: readonly Buffer[];
  intermediates: readonly Buffer[];
}

/** How many validated upstream chains one pool remembers (an agent presents one or two certificates at a time). */
const MAX_VALIDATED = 256;
const SKEW_MS = 30_000;

/**
 * A tls `checkServerIdentity` that accepts only an SVID for `expectedId`.
 *
 * Validating an SVID from DER costs milliseconds, and a pool opens a connection whenever its callers outrun
 * the open ones: the result is remembered per presented chain (the SHA-256 fingerprints of every certificate
 * the server sent, as Node computed them). A remembered chain is still held to its validity window on every
 * connection, and the memory is per pool, so a new trust bundle (new pools) starts from nothing.
 */
export function spiffeServerIdentity(expectedId: string, trustDomain: string, trust: UpstreamTrust, now: () => number) {
  const validated = new Map<string, { id: string; notBefore: number; notAfter: number }>();
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    const chain: Buffer[] = [];
    let key = '';
    // the chain the server sent (leaf first); a resumed session may carry only the leaf
    let c: PeerCertificate | undefined = cert;
    const seen = new Set<PeerCertificate>();
    while (c && c.raw && !seen.has(c) && chain.length < 5) {
      seen.add(c);
      chain.push(c.raw);
      key += c.fingerprint256;
      c = (c as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
    }
    if (chain.length === 0) return new UpstreamIdentityError('the upstream presented no certificate');
    const t = now();
    const hit = validated.get(key);
    if (hit !== undefined && t + SKEW_MS >= hit.notBefore && t - SKEW_MS <= hit.notAfter) return mismatch(hit.id, expectedId);
    try {
      const svid = validateSvid({ chain: [...chain, ...trust.intermediates], bundle: trust.bundleDer, now: t, trustDomain, usage: 'server', skewMs: SKEW_MS }, trust.bundle);
      if (validated.size >= MAX_VALIDATED) validated.clear();
      validated.set(key, { id: svid.id.uri, notBefore: svid.notBefore, notAfter: svid.notAfter });
      return mismatch(svid.id.uri, expectedId);
    } catch (e) {
      return new UpstreamIdentityError(`the upstream certificate is not a valid SVID: ${(e as Error).message}`, { cause: e });
    }
  };
}

function mismatch(presented: string, expectedId: string): Error | undefined {
  return presented === expectedId ? undefined : new UpstreamIdentityError(`the upstream presented ${presented}, not the registered ${expectedId}`);
}

export type UpstreamErrorKind = 'refused' | 'reset' | 'timeout' | 'identity' | 'other';

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Map an upstream failure to a bounded kind (metric label, HTTP status). */
export function classifyUpstreamError(err: unknown): UpstreamErrorKind {
  for (let e = err as (Error & { code?: string; cause?: unknown }) | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (e instanceof UpstreamIdentityError || e.code === 'ERR_TOLLGATE_UPSTREAM_IDENTITY') return 'identity';
    const code = e.code;
    if (code === undefined) continue;
    if (TLS_TRUST_CODES.has(code)) return 'identity';
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EAI_AGAIN') return 'refused';
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'timeout';
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED' || code === 'ECONNABORTED') return 'reset';
  }
  return 'other';
}
