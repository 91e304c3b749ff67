/**
 * The CA's durable state behind one interface: join tokens, issued certificates, revocations. Two
 * implementations: SQLite in the data directory (store/sqlite.ts, the embedded default) and PostgreSQL
 * shared by a fleet of replicas (store/postgres.ts). Every call is asynchronous so a networked store fits;
 * nothing on the proxy's request path calls the store (the authority keeps in-memory copies). The same
 * contract tests (test/contracts/ca-store.ts) run against both. Failures reject with CaError('storage').
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

/** The meta table, read and written inside an exclusive section. */
export interface MetaAccess {
  readMeta(key: string): Promise<string | null>;
  writeMeta(key: string, value: string): Promise<void>;
}

export interface CaStore {
  /** where the state lives, for messages: a file path, or a PostgreSQL URL without its password */
  readonly location: string;
  /** whether several gateway processes share this store (PostgreSQL): each replica then signs with its own intermediate */
  readonly shared: boolean;

  /**
   * Run `fn` holding the store's write lock, with meta reads and writes in the same transaction:
   * serialises CA initialisation and intermediate rotation between processes (server, CLI, replicas).
   * `fn` may only await `tx` and synchronous work (the SQLite store holds its one connection meanwhile).
   */
  exclusive<T>(fn: (tx: MetaAccess) => T | Promise<T>): Promise<T>;

  readMeta(key: string): Promise<string | null>;
  writeMeta(key: string, value: string): Promise<void>;

  createToken(token: NewToken): Promise<void>;
  /**
   * Redeem a token all-or-nothing: in ONE transaction, mark it used (exactly one caller across processes
   * wins), call `sign` with it, and record the certificate `sign` returns together with the token (which
   * names its serial). A crash leaves the token unused, or used with its certificate recorded. When `sign`
   * throws (expired, banned, bad CSR) the token stays consumed, nothing is recorded, and the error is
   * rethrown as is: a token is never usable twice, even when the first attempt fails. `sign` is
   * synchronous (CPU only): it runs inside the transaction.
   */
  redeemToken<T>(hash: string, now: number, sign: (token: ConsumedToken) => { cert: NewIssued; value: T }): Promise<Redemption<T>>;
  /** Forget tokens (and used-token tombstones) that expired before `before`. */
  pruneTokens(before: number): Promise<number>;

  recordIssued(cert: NewIssued): Promise<void>;
  /** Record several in one transaction: all or none. */
  recordIssuedMany(certs: readonly NewIssued[]): Promise<void>;
  listIssued(filter?: { spiffeId?: string; limit?: number }): Promise<IssuedRecord[]>;

  /** Ban an identity and revoke every certificate issued to it. Returns how many certificates were newly revoked. */
  revokeIdentity(spiffeId: string, reason: string, now: number): Promise<number>;
  /** Lift an identity ban (certificates revoked with it stay revoked). Returns false when it was not banned. */
  unrevokeIdentity(spiffeId: string, now: number): Promise<boolean>;
  revokeSerial(serial: string, reason: string, now: number): Promise<SerialRevocation>;
  /** The authoritative (slow path) checks; the authority keeps an in-memory copy for the hot path. */
  isRevoked(serial: string, spiffeId: string): Promise<boolean>;
  isBanned(spiffeId: string): Promise<boolean>;
  /**
   * Events after `cursor`, oldest first; at most `limit` of them when given. Gap-safe: an event with a
   * lower seq than one already returned never becomes visible later (writers take the log's order under
   * a lock), so a reader that advances its cursor to the last seq it saw misses nothing.
   */
  revocationsSince(cursor: number, limit?: number): Promise<RevocationEvent[]>;

  /**
   * A store other processes write to and that announces it (PostgreSQL): run `fn` after each committed
   * revocation, so the authority reads it at once rather than at its next refresh. Returns its removal.
   */
  watchRevocations?(fn: () => void): () => void;

  /**
   * Reject with CaError('storage') when the store is no longer the one opened: the SQLite file deleted or
   * replaced (writes would go to a file nobody reads again), the PostgreSQL database holding another CA.
   */
  assertIntact(): Promise<void>;

  close(): Promise<void>;
}
