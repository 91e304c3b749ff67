/**
 * The certificate authority: decides who gets a certificate (join token, renewing peer, revocations) and
 * signs it with the online intermediate. Implements the CertificateAuthority contract of ca/api.ts.
 *
 * Order on bootstrap matters and follows SPIRE: the token is consumed first, before its expiry, the CSR or
 * anything else is looked at, so a token is never usable twice even when the first attempt fails.
 */
import { hkdfSync } from 'node:crypto';
import type { ValidatedSvid } from '../certs/svid.js';
import { normalizeSerial } from '../certs/svid.js';
import { derToPem } from '../certs/pem.js';
import { parseSpiffeId, parseWorkloadId } from '../certs/spiffe-id.js';
import { CaError, type CertificateAuthority, type GatewayCredentials, type IssuedRecord, type IssuedSvid } from './api.js';
import { newP256Key } from './ca-certs.js';
import { assertStorePresent, createIntermediate, loadIntermediates, openOrCreateRoot, pickSigning } from './ca-state.js';
import { verifyCsr } from './csr.js';
import type { CaCredential } from './keys/credential.js';
import { CaKeyFiles } from './keys/file-store.js';
import { MAX_TOKEN_TTL_MS, resolveOptions, type AuthorityOptions, type ResolvedOptions } from './options.js';
import { IssuedRecorder } from './issued-recorder.js';
import { RevocationCache } from '../protocol/revocations.js';
import { rotationPoint, shouldRotateIntermediate, svidWindow } from './rotation.js';
import { serverNameSans } from './server-names.js';
import { SqliteCaStore } from './store/sqlite.js';
import type { CaStore, NewIssued, RevocationEvent } from './store/types.js';
import { SVID_SUBJECT, authorityKeyIdExtension, leafExtensions, randomSerial, signCertificate, type SanEntries } from './template.js';
import { checkTokenShape, generateToken, hashToken } from './tokens.js';

export type { AuthorityOptions } from './options.js';

const RETRY_MS = 60_000;
/** Most revocation events in one answer to a relying party (it asks again while `more`). */
export const MAX_REVOCATIONS_PAGE = 1000;
const PRUNE_EVERY_MS = 60_000;
/** Used-token tombstones are kept this long after expiry, so a replay says "already used". */
const TOKEN_TOMBSTONE_MS = 7 * 24 * 3_600_000;
const CREATE_TOKEN = '`tollgate token create`';
/** The gateway's namespace in the trust domain (its own ID is spiffe://<td>/tollgate/gateway). */
export const RESERVED_PATH = '/tollgate';

/** The intermediate currently signing, with what every leaf copies from it encoded once. */
interface Signer {
  cred: CaCredential;
  authorityKeyId: Buffer;
  /** when to look at rotation again */
  checkAt: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class Authority implements CertificateAuthority {
  readonly trustDomain: string;
  private readonly bundle: string;
  private readonly bundleDers: Buffer[];
  private signer!: Signer;
  private readonly revocations = new RevocationCache();
  private readonly recorder: IssuedRecorder;
  private readonly timer: NodeJS.Timeout;
  private lastPrune = 0;
  private closed = false;
  /** the database file was found deleted or replaced (reported once until it is back) */
  private storeLost = false;

  /** one background tick at a time: a slow store must not pile ticks up */
  private ticking = false;
  /** a revocation was announced during a tick (which may have read before it committed): tick again after it */
  private tickAgain = false;
  private readonly unwatch: (() => void) | undefined;

  /** Use openAuthority(), which selects the signer and reads the revocations before handing it out. */
  constructor(
    private readonly o: ResolvedOptions,
    private readonly files: CaKeyFiles,
    private readonly store: CaStore,
    private readonly root: CaCredential,
  ) {
    this.trustDomain = o.trustDomain;
    this.bundle = root.certPem;
    this.bundleDers = [root.certDer];
    this.recorder = new IssuedRecorder(store);
    this.timer = setInterval(() => void this.tick(), o.revocationRefreshMs);
    this.timer.unref();
    // another process's revocation, announced (PostgreSQL): enforced here at once, not at the next refresh
    this.unwatch = store.watchRevocations?.(() => void this.tick(true));
  }

  /** First signer and revocation copy; openAuthority awaits it. */
  async start(): Promise<void> {
    await this.selectSigner(this.o.now(), true);
    await this.syncRevocations();
  }

  // ------------------------------------------------------------ trust bundle

  rootFingerprint(): string {
    return this.root.fingerprint;
  }

  bundlePem(): string {
    return this.bundle;
  }

  deriveSecret(purpose: string): Buffer {
    const ikm = this.root.key.export({ format: 'der', type: 'pkcs8' });
    return Buffer.from(hkdfSync('sha256', ikm, Buffer.from(this.root.fingerprint), Buffer.from(`tollgate ${purpose}`), 32));
  }

  bundleDer(): Buffer[] {
    return this.bundleDers.map((d) => Buffer.from(d));
  }

  intermediateNotAfter(): number {
    return this.signer.cred.notAfter;
  }

  /** The data directory this CA lives in. */
  get dataDir(): string {
    return this.files.dataDir;
  }

  // ------------------------------------------------------------ tokens and issuance

  async createJoinToken(spiffeId: string, ttlMs?: number): Promise<{ token: string; expiresAt: number }> {
    this.assertOpen();
    await this.assertStoreIntact();
    const id = this.workloadId(spiffeId);
    this.refuseReserved(id, 'no join token is issued for it');
    const ttl = ttlMs ?? this.o.tokenTtlMs;
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 1000 || ttl > MAX_TOKEN_TTL_MS) {
      throw new CaError('invalid_argument', `a join token TTL must be between 1 s and 30 days, got ${String(ttlMs)} ms`);
    }
    if (await this.store.isBanned(id)) throw this.revokedIdentity(id);
    const now = this.o.now();
    const token = generateToken();
    const expiresAt = now + Math.floor(ttl);
    await this.store.createToken({ hash: hashToken(token), spiffeId: id, createdAt: now, expiresAt });
    return { token, expiresAt };
  }

  async bootstrap(token: string, csrDer: Uint8Array): Promise<IssuedSvid> {
    this.assertOpen();
    await this.assertStoreIntact();
    const t = checkTokenShape(token);
    const now = this.o.now();
    const signer = await this.signerAt(now); // before the store transaction: rotation takes the store lock itself
    // One transaction: the token is consumed first (before its expiry, the CSR or anything else is looked
    // at), then signed for and recorded with the certificate, so a crash cannot burn a token for nothing.
    const r = await this.store.redeemToken(hashToken(t), now, (use) => {
      if (now >= use.expiresAt) {
        throw new CaError('token_expired', `join token expired at ${iso(use.expiresAt)}; create a new one with ${CREATE_TOKEN}`);
      }
      // read from the store with the token, not from the cache: a ban written by another process a moment ago holds here
      if (use.banned) throw this.revokedIdentity(use.spiffeId);
      // a token made before the namespace was reserved
      this.refuseReserved(use.spiffeId, 'no join token is redeemed for it');
      const key = verifyCsr(csrDer);
      const signed = this.sign(signer, 'svid', { uri: use.spiffeId }, key.spkiDer, key.point, now);
      return { cert: signed.record, value: signed.issued };
    });
    if (r.status === 'unknown') {
      throw new CaError('token_unknown', `unknown join token: check that it was copied whole, or create a new one with ${CREATE_TOKEN}`);
    }
    if (r.status === 'already_used') {
      throw new CaError('token_used', `join token already used (at ${iso(r.usedAt)}); tokens are single use: create a new one with ${CREATE_TOKEN}`);
    }
    this.o.events.onIssued?.('svid');
    return r.value;
  }

  async renew(peer: ValidatedSvid, csrDer: Uint8Array): Promise<IssuedSvid> {
    this.assertOpen();
    await this.assertStoreIntact();
    const now = this.o.now();
    if (!peer || !peer.id || typeof peer.id.uri !== 'string' || peer.id.path === '') {
      throw new CaError('unauthenticated', 'renewal needs your current SVID as the TLS client certificate');
    }
    if (peer.id.trustDomain !== this.trustDomain) {
      throw new CaError('unauthenticated', `the client certificate is for trust domain ${peer.id.trustDomain}, not ${this.trustDomain}`);
    }
    if (peer.notAfter <= now - 30_000)
      throw new CaError('unauthenticated', `the client certificate expired at ${iso(peer.notAfter)}; bootstrap again with a new join token`);
    this.refuseReserved(peer.id.uri, 'it is not renewed through the identity API');
    if (await this.store.isBanned(peer.id.uri)) throw this.revokedIdentity(peer.id.uri);
    if (await this.store.isRevoked(peer.serial, peer.id.uri)) {
      throw new CaError('revoked', `certificate ${peer.serial} is revoked and cannot be renewed; bootstrap again with a new join token`);
    }
    const key = verifyCsr(csrDer);
    return this.issueSvid(peer.id.uri, key.spkiDer, key.point, now);
  }

  async issueGatewayCredentials(spiffeId: string, serverNames: string[]): Promise<GatewayCredentials> {
    this.assertOpen();
    await this.assertStoreIntact();
    const id = this.workloadId(spiffeId);
    const { dns, ips } = serverNameSans(serverNames ?? []);
    if (await this.store.isBanned(id)) throw this.revokedIdentity(id);
    const now = this.o.now();
    const { key, spkiDer, point } = newP256Key();
    const issued = await this.issue('gateway', { uri: id, dns, ips }, spkiDer, point, now);
    return {
      keyPem: key.export({ format: 'pem', type: 'pkcs8' }) as string,
      certChainPem: issued.certChainPem,
      bundlePem: this.bundle,
      spiffeId: id,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
    };
  }

  private issueSvid(spiffeId: string, spkiDer: Buffer, point: Buffer, now: number): Promise<IssuedSvid> {
    return this.issue('svid', { uri: spiffeId }, spkiDer, point, now);
  }

  /** Sign, record, report. A certificate that could not be recorded is not handed out. */
  private async issue(kind: 'svid' | 'gateway', san: SanEntries, spkiDer: Buffer, point: Buffer, now: number): Promise<IssuedSvid> {
    const { record, issued } = this.sign(await this.signerAt(now), kind, san, spkiDer, point, now);
    await this.recorder.record(record);
    this.o.events.onIssued?.(kind);
    return issued;
  }

  /** Sign a leaf: the certificate and the record to store before handing it out. */
  private sign(
    signer: Signer,
    kind: 'svid' | 'gateway',
    san: SanEntries,
    spkiDer: Buffer,
    point: Buffer,
    now: number,
  ): { record: NewIssued; issued: IssuedSvid } {
    const window = svidWindow(now, this.o.svidTtlMs, signer.cred.notAfter);
    if (window.notAfter <= now) throw new CaError('internal', 'the signing intermediate CA is expiring and no new one could be made; retry shortly');
    const serial = randomSerial();
    let der: Buffer;
    try {
      der = signCertificate(
        {
          serial,
          notBefore: window.notBefore,
          notAfter: window.notAfter,
          subjectDer: SVID_SUBJECT,
          spkiDer,
          extensions: leafExtensions(san, point, signer.authorityKeyId),
        },
        signer.cred,
      );
    } catch (e) {
      this.o.events.onSigningFailure?.(e);
      throw new CaError('internal', 'the CA could not sign the certificate', { cause: e });
    }
    const serialHex = normalizeSerial(serial.toString('hex'));
    return {
      record: { serial: serialHex, spiffeId: san.uri, kind, notBefore: window.notBefore, notAfter: window.notAfter, issuedAt: now },
      issued: {
        spiffeId: san.uri,
        serial: serialHex,
        certChainPem: derToPem(der) + signer.cred.certPem,
        bundlePem: this.bundle,
        notBefore: window.notBefore,
        notAfter: window.notAfter,
      },
    };
  }

  // ------------------------------------------------------------ intermediate rotation

  async rotateIfNeeded(now: number = this.o.now()): Promise<boolean> {
    this.assertOpen();
    const before = this.signer.cred.serial;
    await this.selectSigner(now, true);
    return this.signer.cred.serial !== before;
  }

  /** The signer for `now`, rotating first when due. A failed rotation is retried later while the current one still works. */
  private async signerAt(now: number): Promise<Signer> {
    if (now >= this.signer.checkAt || now >= this.signer.cred.notAfter) {
      try {
        await this.selectSigner(now, false);
      } catch (e) {
        if (now >= this.signer.cred.notAfter) {
          this.o.events.onSigningFailure?.(e);
          throw e instanceof CaError ? e : new CaError('internal', 'no valid intermediate CA to sign with', { cause: e });
        }
        this.o.events.onBackgroundFailure?.(e);
        this.signer.checkAt = now + RETRY_MS;
      }
    }
    return this.signer;
  }

  /**
   * Re-read the intermediates (another process may have rotated), make a new one when due, and sign
   * with the best. Under the store lock so two processes do not both rotate.
   */
  private async selectSigner(now: number, initial: boolean): Promise<void> {
    await this.store.exclusive(() => {
      const onDisk = loadIntermediates(this.files, this.root, now);
      let current = pickSigning(onDisk, now);
      if (shouldRotateIntermediate(now, current, this.o.svidTtlMs, this.o.intermediateTtlMs, this.root.notAfter)) {
        current = createIntermediate(this.o, this.files, this.root, now);
        this.o.events.onIssued?.('intermediate');
      }
      if (current === null) throw new CaError('internal', 'no intermediate CA available');
      const point = rotationPoint(current, this.o.svidTtlMs);
      // past the rotation point yet not rotated (the root's end caps the next one): look again later
      const checkAt = now < point ? point : now + RETRY_MS;
      if (initial || !this.signer || this.signer.cred.serial !== current.serial) {
        this.signer = { cred: current, authorityKeyId: authorityKeyIdExtension(current.keyId), checkAt };
      } else {
        this.signer.checkAt = checkAt;
      }
    });
  }

  // ------------------------------------------------------------ revocation

  async revokeIdentity(spiffeId: string, reason = ''): Promise<number> {
    this.assertOpen();
    await this.assertStoreIntact();
    const id = this.workloadId(spiffeId);
    const n = await this.store.revokeIdentity(id, reason, this.o.now());
    await this.syncRevocations();
    return n;
  }

  async unrevokeIdentity(spiffeId: string): Promise<boolean> {
    this.assertOpen();
    await this.assertStoreIntact();
    const id = this.workloadId(spiffeId);
    const lifted = await this.store.unrevokeIdentity(id, this.o.now());
    await this.syncRevocations();
    return lifted;
  }

  async revokeSerial(serial: string, reason = ''): Promise<void> {
    this.assertOpen();
    await this.assertStoreIntact();
    if (typeof serial !== 'string' || !/^[0-9a-fA-F:]+$/.test(serial.trim())) {
      throw new CaError('invalid_argument', `invalid serial ${JSON.stringify(serial)}: expected hexadecimal (as listed by \`tollgate ctl certs list\`)`);
    }
    const s = normalizeSerial(serial.trim());
    const r = await this.store.revokeSerial(s, reason, this.o.now());
    if (r === 'unknown_serial') {
      throw new CaError('invalid_argument', `no certificate with serial ${s} was issued by this CA; list issued certificates with \`tollgate ctl certs list\``);
    }
    await this.syncRevocations();
  }

  isRevoked(serial: string, spiffeId: string): boolean {
    return this.revocations.isRevoked(serial, spiffeId);
  }

  async listIssued(filter?: { spiffeId?: string; limit?: number }): Promise<IssuedRecord[]> {
    this.assertOpen();
    let spiffeId: string | undefined;
    if (filter?.spiffeId !== undefined) {
      try {
        spiffeId = parseSpiffeId(filter.spiffeId).uri;
      } catch (e) {
        throw new CaError('invalid_argument', (e as Error).message, { cause: e });
      }
    }
    return this.store.listIssued({ spiffeId, limit: filter?.limit });
  }

  async revocationsSince(after: number, limit: number): Promise<{ events: RevocationEvent[]; cursor: number; more: boolean }> {
    this.assertOpen();
    if (!Number.isSafeInteger(after) || after < 0)
      throw new CaError('invalid_argument', `after must be a non-negative integer (the cursor of the last answer, or 0), got ${String(after)}`);
    const n = Math.max(1, Math.min(Math.floor(limit), MAX_REVOCATIONS_PAGE));
    const events = await this.store.revocationsSince(after, n + 1);
    const more = events.length > n;
    if (more) events.length = n;
    return { events, cursor: events.length > 0 ? events[events.length - 1].seq : after, more };
  }

  /** Apply revocations written since the last look (by this or another process). */
  private async syncRevocations(): Promise<void> {
    this.revocations.apply(await this.store.revocationsSince(this.revocations.position));
    const now = this.o.now();
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      this.revocations.prune(now);
    }
  }

  private async tick(announced = false): Promise<void> {
    if (this.closed) return;
    if (this.ticking) {
      this.tickAgain ||= announced;
      return;
    }
    this.ticking = true;
    try {
      try {
        await this.assertStoreIntact();
      } catch {
        return; // reported through onStoreLost; nothing to do against a lost store
      }
      try {
        await this.syncRevocations();
      } catch (e) {
        this.storeReachable(false, e);
        return;
      }
      this.storeReachable(true);
      const now = this.o.now();
      if (now >= this.signer.checkAt) await this.signerAt(now);
    } catch (e) {
      this.o.events.onBackgroundFailure?.(e);
    } finally {
      this.ticking = false;
      if (this.tickAgain) {
        this.tickAgain = false;
        void this.tick();
      }
    }
  }

  /** Report the store's reachability to the owner once per change, with every successful sync's time. */
  private storeReachable(up: boolean, err?: unknown): void {
    this.o.events.onStoreSync?.(up, this.o.now(), err);
  }

  // ------------------------------------------------------------ helpers

  private workloadId(input: string): string {
    let id;
    try {
      id = parseWorkloadId(input);
    } catch (e) {
      throw new CaError('invalid_argument', (e as Error).message, { cause: e });
    }
    if (id.trustDomain !== this.trustDomain) {
      throw new CaError('invalid_argument', `${id.uri} is in trust domain ${id.trustDomain}; this CA issues identities only in ${this.trustDomain}`);
    }
    return id.uri;
  }

  /**
   * spiffe://<td>/tollgate/... belongs to the gateway: whoever holds such an SVID can talk to agents
   * directly and state any caller in x-forwarded-client-cert. Only issueGatewayCredentials (the gateway
   * process itself) issues it.
   */
  private refuseReserved(id: string, what: string): void {
    const ns = `spiffe://${this.trustDomain}${RESERVED_PATH}`;
    if (id.startsWith(`${ns}/`) || id === ns) {
      throw new CaError('permission_denied', `${id}: the namespace ${ns}/ is reserved for the gateway's own identity; ${what}`);
    }
  }

  private revokedIdentity(id: string): CaError {
    return new CaError('revoked', `${id} is revoked; it gets no certificates until an operator lifts the revocation (unrevoke the identity)`);
  }

  /**
   * Refuse to write into a database file that is no longer at its path (deleted or replaced): whatever is
   * written there is lost at the next restart, revocations included. Checked before every write and on
   * every tick, so the alert does not wait for traffic.
   */
  private async assertStoreIntact(): Promise<void> {
    try {
      await this.store.assertIntact();
    } catch (e) {
      if (!this.storeLost && e instanceof CaError) {
        this.storeLost = true;
        this.o.events.onStoreLost?.(e);
      }
      throw e;
    }
    if (this.storeLost) {
      this.storeLost = false;
      this.o.events.onStoreRestored?.();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new CaError('internal', 'the certificate authority has been closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.unwatch?.();
    await this.recorder.flush();
    await this.store.close();
  }

  /** Forget tokens (and tombstones) long expired. */
  pruneTokens(now: number = this.o.now()): Promise<number> {
    return this.store.pruneTokens(now - TOKEN_TOMBSTONE_MS);
  }
}

/**
 * Open the CA in `dataDir`, creating it (root, first intermediate, database) on the first call for an
 * empty directory. Later opens reuse it; a different trust domain than the stored one is refused.
 */
export async function openAuthority(opts: AuthorityOptions): Promise<Authority> {
  const o = resolveOptions(opts);
  const files = new CaKeyFiles(o.dataDir);
  files.ensureDirectories();
  let store: CaStore;
  if (opts.store) {
    store = opts.store;
  } else {
    assertStorePresent(files, o.recreateStore);
    store = new SqliteCaStore(files.dbFile);
  }
  try {
    const now = o.now();
    const info = { location: store.location, shared: store.shared };
    const { root, created } = await store.exclusive((tx) => openOrCreateRoot(o, files, tx, now, info));
    // the store learns which CA it holds now, right after it was checked against the root file
    await store.assertIntact();
    if (created) o.events.onIssued?.('root');
    const authority = new Authority(o, files, store, root);
    try {
      await authority.start();
      await authority.pruneTokens(now);
    } catch (e) {
      await authority.close().catch(() => undefined);
      throw e;
    }
    return authority;
  } catch (e) {
    await store.close();
    throw e;
  }
}
