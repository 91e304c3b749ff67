/**
 * The contract of the certificate authority as the rest of Tollgate sees it (control/ gRPC services,
 * the proxy, the CLI). ca/authority.ts implements it; everything else depends only on this file.
 */
import { CodedError } from '../protocol/errors.js';
import type { ValidatedSvid } from '../certs/svid.js';
import type { RevocationEvent } from './store/types.js';

export type { RevocationEvent } from './store/types.js';

export type CaErrorCode =
  | 'invalid_argument' // malformed input: bad SPIFFE ID, unparsable CSR, bad TTL
  | 'bad_csr_signature' // CSR proof of possession failed
  | 'token_unknown' // no such token (never issued, or already used: we can't tell after consumption)
  | 'token_used'
  | 'token_expired'
  | 'unauthenticated' // renewal without a valid client SVID
  | 'revoked' // identity or serial revoked
  | 'permission_denied'
  | 'storage' // data dir / store failure
  | 'internal';

/** One error type for the CA layer: stable code, message safe to show the caller, cause for logs. */
export class CaError extends CodedError<CaErrorCode> {
  constructor(code: CaErrorCode, publicMessage: string, options?: { cause?: unknown }) {
    super(code, publicMessage, options);
    this.name = 'CaError';
  }
}

export interface IssuedSvid {
  spiffeId: string;
  serial: string; // lowercase hex, normalized like certs/svid normalizeSerial
  /** leaf + intermediate, PEM */
  certChainPem: string;
  /** trust bundle (root(s)), PEM */
  bundlePem: string;
  notBefore: number;
  notAfter: number;
}

export interface GatewayCredentials {
  keyPem: string;
  certChainPem: string;
  bundlePem: string;
  spiffeId: string;
  notBefore: number;
  notAfter: number;
}

export interface IssuedRecord {
  serial: string;
  spiffeId: string;
  notBefore: number;
  notAfter: number;
  issuedAt: number;
  revoked: boolean;
}

export interface CaEvents {
  /** called for every certificate the CA signs (metrics: tollgate_certificates_issued_total) */
  onIssued?(kind: 'svid' | 'gateway' | 'intermediate' | 'root'): void;
  /** called when signing fails (metrics: tollgate_ca_signing_failures_total) */
  onSigningFailure?(err: unknown): void;
  /** called when the periodic revocation refresh or background intermediate rotation fails (log it) */
  onBackgroundFailure?(err: unknown): void;
  /**
   * called once when the database file is found deleted or replaced while the CA runs (it then refuses to
   * issue or revoke: those writes would be lost); alert on it (metrics: tollgate_ca_store_lost)
   */
  onStoreLost?(err: CaError): void;
  /** called when the file is back at its path (moved back), after onStoreLost */
  onStoreRestored?(): void;
  /**
   * called after every background sync with the store (revocations, every `revocationRefreshMs`): `up`
   * false when it failed (a database down); `at` is the time of the attempt (metrics: tollgate_store_up)
   */
  onStoreSync?(up: boolean, at: number, err?: unknown): void;
}

export interface CertificateAuthority {
  readonly trustDomain: string;
  /** `sha256:<hex>` of the root's DER */
  rootFingerprint(): string;
  /** PEM of the trust bundle (the root; during root overlap, both) */
  bundlePem(): string;
  /** DER of every root in the bundle */
  bundleDer(): Buffer[];
  /** notAfter (ms) of the intermediate currently signing */
  intermediateNotAfter(): number;

  /** create a single-use join token bound to `spiffeId`; returns the secret token (stored only as a hash) */
  createJoinToken(spiffeId: string, ttlMs?: number): Promise<{ token: string; expiresAt: number }>;
  /** redeem a token with a PKCS#10 CSR (DER). Consumes the token before any other check. */
  bootstrap(token: string, csrDer: Uint8Array): Promise<IssuedSvid>;
  /** renew for an already-validated peer SVID (the caller did mTLS + validateSvid); checks revocation */
  renew(peer: ValidatedSvid, csrDer: Uint8Array): Promise<IssuedSvid>;
  /** the gateway's own SVID, with DNS/IP SANs for `serverNames` */
  issueGatewayCredentials(spiffeId: string, serverNames: string[]): Promise<GatewayCredentials>;

  /**
   * Revoke every certificate issued to `spiffeId` and ban the identity: renewal and bootstrap (and new
   * join tokens) are refused until `unrevokeIdentity`. Returns how many certificates were newly revoked.
   */
  revokeIdentity(spiffeId: string, reason?: string): Promise<number>;
  /** Lift an identity ban. Certificates revoked with it stay revoked. Returns false when it was not banned. */
  unrevokeIdentity(spiffeId: string): Promise<boolean>;
  /** Revoke one certificate by serial (hex, any case, colons allowed). Unknown serials are refused. */
  revokeSerial(serial: string, reason?: string): Promise<void>;
  /**
   * fast, synchronous: used per request on the proxy hot path. Pass ValidatedSvid.serial and
   * ValidatedSvid.id.uri as they are (already normalized). Revocations made by another process on the
   * same data directory are seen within `revocationRefreshMs` (default 500 ms); by another replica on the
   * same PostgreSQL database, as soon as the database announces them (the store's watchRevocations).
   */
  isRevoked(serial: string, spiffeId: string): boolean;
  listIssued(filter?: { spiffeId?: string; limit?: number }): Promise<IssuedRecord[]>;
  /**
   * The revocation log after position `after` (oldest first, at most `limit` events) for relying parties
   * outside this process (agent servers): `cursor` is the position to ask from next; `more` when the page
   * was full.
   */
  revocationsSince(after: number, limit: number): Promise<{ events: RevocationEvent[]; cursor: number; more: boolean }>;

  /**
   * A 32-byte secret for `purpose`, derived from the root key (HKDF-SHA256): the same on every replica that
   * holds the fleet's root, unknown to anyone without it. Seals what a fleet shares through its database.
   */
  deriveSecret(purpose: string): Buffer;

  /** rotate the intermediate if it is past its rotation point; returns true when it rotated */
  rotateIfNeeded(now?: number): Promise<boolean>;
  close(): Promise<void>;
}
