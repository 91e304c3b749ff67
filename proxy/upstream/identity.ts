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

/** A tls `checkServerIdentity` that accepts only an SVID for `expectedId`. */
export function spiffeServerIdentity(expectedId: string, trustDomain: string, trust: UpstreamTrust, now: () => number) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    const chain: Buffer[] = [];
    // the chain the server sent (leaf first); a resumed session may carry only the leaf
    let c: PeerCertificate | undefined = cert;
    const seen = new Set<PeerCertificate>();
    while (c && c.raw && !seen.has(c) && chain.length < 5) {
      seen.add(c);
      chain.push(c.raw);
      c = (c as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
    }
    if (chain.length === 0) return new UpstreamIdentityError('the upstream presented no certificate');
    try {
      const svid = validateSvid({ chain: [...chain, ...trust.intermediates], bundle: trust.bundleDer, now: now(), trustDomain, usage: 'server' }, trust.bundle);
      if (svid.id.uri !== expectedId) return new UpstreamIdentityError(`the upstream presented ${svid.id.uri}, not the registered ${expectedId}`);
      return undefined;
    } catch (e) {
      return new UpstreamIdentityError(`the upstream certificate is not a valid SVID: ${(e as Error).message}`, { cause: e });
    }
  };
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
