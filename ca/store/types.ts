/**
 * The CA's durable state behind one interface: join tokens, issued certificates, revocations. The SQLite
 * implementation (store/sqlite.ts) is the only one today; the names say what each call does so a networked
 * store can replace it. Every call is synchronous (better-sqlite3) because CertificateAuthority.listIssued
 * is; a networked store would keep a local cache for those. Failures throw CaError('storage').
 */
import type { IssuedRecord } from '../api.js';
import type { RevocationEvent } from '../../protocol/revocations.js';

export interface NewToken {
  /** SHA-256 hex of the token: the secret itself is never stored */
  hash: string;
  spiffeId: string;
  createdAt: number;
  expiresAt: number;
}

/** The token row a redemption consumed, as `sign` sees it. */
export interface ConsumedToken {
  spiffeId: string;
  expiresAt: number;
  /** the bound identity is revoked right now (read in the same transaction) */
  banned: boolean;
}

/**
 * The result of presenting a token. The store consumes it unconditionally (expired or not) when it exists
 * and is unused; deciding that an expired token fails is `sign`'s job, after consumption.
 */
export type Redemption<T> = { status: 'issued'; value: T } | { status: 'already_used'; spiffeId: string; usedAt: number } | { status: 'unknown' };

export interface NewIssued {
  serial: string;
  spiffeId: string;
  kind: 'svid' | 'gateway';
  notBefore: number;
  notAfter: number;
  issuedAt: number;
}

// The log entry lives in protocol/: agent servers read the same log over the identity API.
export type { RevocationEvent };

export type SerialRevocation = 'revoked' | 'already_revoked' | 'unknown_serial';

export interface CaStore {
  /**
   * Run `fn` holding the store's write lock: serialises CA initialisation and intermediate rotation
   * between processes sharing the data directory (server and CLI).
   */
  exclusive<T>(fn: () => T): T;

  readMeta(key: string): string | null;
  writeMeta(key: string, value: string): void;

  createToken(token: NewToken): void;
  /**
   * Redeem a token all-or-nothing: in ONE transaction, mark it used (exactly one caller across processes
   * wins), call `sign` with it, and record the certificate `sign` returns together with the token (which
   * names its serial). A crash leaves the token unused, or used with its certificate recorded. When `sign`
   * throws (expired, banned, bad CSR) the token stays consumed, nothing is recorded, and the error is
   * rethrown as is: a token is never usable twice, even when the first attempt fails.
   */
  redeemToken<T>(hash: string, now: number, sign: (token: ConsumedToken) => { cert: NewIssued; value: T }): Redemption<T>;
  /** Forget tokens (and used-token tombstones) that expired before `before`. */
  pruneTokens(before: number): number;

  recordIssued(cert: NewIssued): void;
  /** Record several in one transaction: all or none. */
  recordIssuedMany(certs: readonly NewIssued[]): void;
  listIssued(filter?: { spiffeId?: string; limit?: number }): IssuedRecord[];

  /** Ban an identity and revoke every certificate issued to it. Returns how many certificates were newly revoked. */
  revokeIdentity(spiffeId: string, reason: string, now: number): number;
  /** Lift an identity ban (certificates revoked with it stay revoked). Returns false when it was not banned. */
  unrevokeIdentity(spiffeId: string, now: number): boolean;
  revokeSerial(serial: string, reason: string, now: number): SerialRevocation;
  /** The authoritative (slow path) checks; the authority keeps an in-memory copy for the hot path. */
  isRevoked(serial: string, spiffeId: string): boolean;
  isBanned(spiffeId: string): boolean;
  /** events after `cursor`, oldest first; at most `limit` of them when given */
  revocationsSince(cursor: number, limit?: number): RevocationEvent[];

  /**
   * Throw CaError('storage') naming the file when the file at the store's path is no longer the one it
   * opened (deleted or replaced): writes would go to a file nobody will read again.
   */
  assertIntact(): void;

  close(): void;
}
