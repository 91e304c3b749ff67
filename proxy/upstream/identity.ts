import type { PeerCertificate } from 'node:tls';
import { CodedError } from '../../protocol/errors.js';
import { validateSvid, type TrustBundle } from '../../certs/index.js';

/**
 * The upstream must present the SPIFFE ID registered for its agent. Checked from the DER certificate
 * (validateSvid, usage server), never from the hostname: agents are addressed by IP or internal names that
 * say nothing about who answers.
 */
export class UpstreamIdentityError extends CodedError<'ERR_TOLLGATE_UPSTREAM_IDENTITY'> {
  // A Node-style code: classifyUpstreamError matches it along the cause chain, like the system codes next to it.
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TOLLGATE_UPSTREAM_IDENTITY', message, options);
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
 * Distinct certificates remembered for one pool's connections. A pool lives at most until the gateway's
 * own SVID rotates (new pools then) and sees one or two upstream certificates in that time; past the
 * limit the pool is dropped rather than a certificate forgotten (fail closed).
 */
const MAX_IN_USE = 16;

/** The revocation view the caller's side uses too (sync, O(1)); see stages/identity.ts. */
export interface UpstreamRevocation {
  isRevoked(serial: string, spiffeId: string): boolean;
}

interface Accepted {
  id: string;
  serial: string;
  notBefore: number;
  notAfter: number;
}

/**
 * Who a pool's upstream connections are: a tls `checkServerIdentity` (`check`) that accepts only an SVID
 * for `expectedId`, not revoked, and a per-request question (`revokedInUse`) for the connections it
 * already accepted.
 *
 * Validating an SVID from DER costs milliseconds, and a pool opens a connection whenever its callers outrun
 * the open ones: the result is remembered per presented chain (the SHA-256 fingerprints of every certificate
 * the server sent, as Node computed them). A remembered chain is still held to its validity window and to
 * the revocations on every connection; the memory is per pool, so a new trust bundle (new pools) starts
 * from nothing.
 *
 * Revocation after the handshake: a kept-alive connection is never checked again by TLS, so the
 * certificates accepted for this pool's connections are kept (an agent presents one, two while it
 * rotates) and looked up in the revocation view on every request: a hash lookup or two. When one is
 * revoked the engine drops the pool; the next connection's handshake refuses the callee.
 */
export class UpstreamIdentity {
  private readonly validated = new Map<string, Accepted>();
  /** certificates accepted for connections of the current pool, distinct by serial */
  private inUse: Accepted[] = [];
  /** more distinct certificates than MAX_IN_USE: the pool must go */
  private overflow = false;

  constructor(
    private readonly expectedId: string,
    private readonly trustDomain: string,
    private readonly trust: UpstreamTrust,
    private readonly now: () => number,
    private readonly revocation?: UpstreamRevocation,
  ) {}

  readonly check = (_host: string, cert: PeerCertificate): Error | undefined => {
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
    const t = this.now();
    let a = this.validated.get(key);
    if (a === undefined || t + SKEW_MS < a.notBefore || t - SKEW_MS > a.notAfter) {
      try {
        const svid = validateSvid(
          {
            chain: [...chain, ...this.trust.intermediates],
            bundle: this.trust.bundleDer,
            now: t,
            trustDomain: this.trustDomain,
            usage: 'server',
            skewMs: SKEW_MS,
          },
          this.trust.bundle,
        );
        a = { id: svid.id.uri, serial: svid.serial, notBefore: svid.notBefore, notAfter: svid.notAfter };
      } catch (e) {
        return new UpstreamIdentityError(`the upstream certificate is not a valid SVID: ${(e as Error).message}`, { cause: e });
      }
      if (this.validated.size >= MAX_VALIDATED) this.validated.clear();
      this.validated.set(key, a);
    }
    const wrong = mismatch(a.id, this.expectedId);
    if (wrong !== undefined) return wrong;
    if (this.revocation !== undefined && this.revocation.isRevoked(a.serial, a.id)) {
      return new UpstreamIdentityError(`the upstream ${a.id} presented certificate ${a.serial}, which is revoked`);
    }
    if (!this.inUse.some((u) => u.serial === a.serial)) {
      if (this.inUse.length >= MAX_IN_USE) this.overflow = true;
      else this.inUse.push(a);
    }
    return undefined;
  };

  /** per request: is a certificate accepted for one of the current pool's connections revoked now? */
  revokedInUse(): boolean {
    const r = this.revocation;
    if (r === undefined) return false;
    if (this.overflow) return true;
    const u = this.inUse;
    for (let i = 0; i < u.length; i++) if (r.isRevoked(u[i].serial, u[i].id)) return true;
    return false;
  }

  /** the pool was replaced: its connections (and what they presented) are gone */
  newPool(): void {
    this.inUse = [];
    this.overflow = false;
  }
}

/** A tls `checkServerIdentity` that accepts only an SVID for `expectedId` (see UpstreamIdentity). */
export function spiffeServerIdentity(expectedId: string, trustDomain: string, trust: UpstreamTrust, now: () => number, revocation?: UpstreamRevocation) {
  return new UpstreamIdentity(expectedId, trustDomain, trust, now, revocation).check;
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
