/**
 * Loading and creating the CA's own credentials (root, intermediates), run under the store's write lock
 * so two processes opening or rotating the same data directory agree on one root and see each other's
 * intermediates.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CaError } from './api.js';
import { parseSpiffeId } from '../certs/spiffe-id.js';
import { createIntermediateCertificate, createRootCertificate } from './ca-certs.js';
import type { CaCredential } from './keys/credential.js';
import type { CaKeyFiles } from './keys/file-store.js';
import { BACKDATE_MS, nextIntermediateWindow } from './rotation.js';
import type { ResolvedOptions } from './options.js';
import type { MetaAccess } from './store/types.js';
import { toSeconds } from './template.js';

const META_TRUST_DOMAIN = 'trust_domain';
const META_ROOT = 'root_fingerprint';

/** The trust domain a root was made for: its URI SAN, spiffe://<td>. */
function trustDomainOfRoot(root: CaCredential): string {
  const san = new X509Certificate(root.certDer).subjectAltName ?? '';
  const m = /URI:spiffe:\/\/([^,\s/]+)/.exec(san);
  if (!m) throw new CaError('storage', `${root.file} has no spiffe:// trust domain SAN; it is not a Tollgate root`);
  return parseSpiffeId(`spiffe://${m[1]}`).trustDomain;
}

function refuseOtherTrustDomain(stored: string, o: ResolvedOptions): void {
  if (stored !== o.trustDomain) {
    throw new CaError(
      'invalid_argument',
      `the CA in ${o.dataDir} belongs to trust domain "${stored}", not "${o.trustDomain}"; set trustDomain: ${stored} or use another data directory`,
    );
  }
}

/** Where the CA's records live, for the messages below. */
export interface StoreInfo {
  location: string;
  /** a database shared by a fleet (PostgreSQL), not a file of this data dir */
  shared: boolean;
}

/** The refusal for a CA whose keys exist but whose database does not (deleted, or replaced by a new file). */
export function lostStoreError(files: CaKeyFiles, state: 'missing' | 'new', store?: StoreInfo): CaError {
  if (store?.shared) {
    return new CaError(
      'storage',
      `the CA in ${files.dataDir} has its keys (${path.basename(files.rootFile)}) but the database at ${store.location} holds no record of it (new, or another database): the certificates, tokens and revocations it recorded are not there, and revoked identities would be accepted again; point --store at this CA's database, or pass --recreate-store to start its records over in this one`,
    );
  }
  const db = path.basename(files.dbFile);
  const what = state === 'missing' ? 'missing' : 'new (it holds no record of this CA)';
  return new CaError(
    'storage',
    `the CA in ${files.dataDir} has its keys (${path.basename(files.rootFile)}) but its database ${db} is ${what}: the certificates, tokens and revocations it recorded are gone, and revoked identities would be accepted again; restore ${db} from a backup, or pass --recreate-store to start this CA over with an empty store`,
  );
}

/**
 * Before anything opens (and so creates) the database: refuse a data dir whose root exists without its
 * database, unless told to recreate it. existsSync only stats: it opens no descriptor of the file.
 */
export function assertStorePresent(files: CaKeyFiles, recreate: boolean): void {
  if (!recreate && !existsSync(files.dbFile) && existsSync(files.rootFile)) throw lostStoreError(files, 'missing');
}

/** Load the root, or create it on the first open of an empty data directory. Call under store.exclusive. */
export async function openOrCreateRoot(
  o: ResolvedOptions,
  files: CaKeyFiles,
  store: MetaAccess,
  now: number,
  info: StoreInfo = { location: files.dbFile, shared: false },
): Promise<{ root: CaCredential; created: boolean }> {
  const storedTd = await store.readMeta(META_TRUST_DOMAIN);
  const storedRoot = await store.readMeta(META_ROOT);
  let root = files.loadRoot();
  let created = false;
  if (root === null) {
    if (storedRoot !== null && info.shared) {
      // a new replica of a fleet: the root is shared through a file (or secret mount), never the database
      throw new CaError(
        'storage',
        `${files.rootFile} is missing, but the database at ${info.location} belongs to the fleet's CA with root ${storedRoot}; copy root-ca.pem (0600) from a running replica's data dir, or mount it there, then start again`,
      );
    }
    if (storedRoot !== null) {
      throw new CaError(
        'storage',
        `${files.rootFile} is missing, but ${files.dbFile} belongs to the CA with root ${storedRoot}; restore the file from a backup, or move the data directory aside to start a new CA`,
      );
    }
    if (storedTd !== null) refuseOtherTrustDomain(storedTd, o);
    const window = { notBefore: toSeconds(now - BACKDATE_MS), notAfter: toSeconds(now + o.rootTtlMs) };
    const made = createRootCertificate(o.trustDomain, window);
    root = files.saveRoot(made.certDer, made.key);
    created = true;
  } else if (storedRoot === null && !o.recreateStore) {
    throw lostStoreError(files, 'new', info);
  } else if (storedRoot !== null && storedRoot !== root.fingerprint) {
    throw new CaError(
      'storage',
      `${files.rootFile} (${root.fingerprint}) is not the root ${info.location} was made with (${storedRoot}); ${info.shared ? "copy the fleet's root-ca.pem from a running replica, or point --store at this CA's database" : 'restore the matching file or database'}`,
    );
  }
  const rootCert = new X509Certificate(root.certDer);
  if (!rootCert.checkIssued(rootCert) || !rootCert.verify(rootCert.publicKey)) {
    throw new CaError('storage', `${files.rootFile} does not hold a self-signed root certificate; restore it from a backup`);
  }
  refuseOtherTrustDomain(storedTd ?? trustDomainOfRoot(root), o);
  if (root.notAfter <= now) {
    throw new CaError(
      'storage',
      `the root CA in ${files.rootFile} expired at ${new Date(root.notAfter).toISOString()}; root rotation is not supported: start a new CA in a new data directory and bootstrap the agents again`,
    );
  }
  if (storedTd === null) await store.writeMeta(META_TRUST_DOMAIN, o.trustDomain);
  if (storedRoot === null) await store.writeMeta(META_ROOT, root.fingerprint);
  files.writeBundle(root.certPem);
  return { root, created };
}

/** Intermediates on disk that the root signed, dropping (and deleting) expired ones. */
export function loadIntermediates(files: CaKeyFiles, root: CaCredential, now: number): CaCredential[] {
  const rootCert = new X509Certificate(root.certDer);
  const out: CaCredential[] = [];
  for (const c of files.loadIntermediates()) {
    const cert = new X509Certificate(c.certDer);
    if (!cert.checkIssued(rootCert) || !cert.verify(rootCert.publicKey)) {
      throw new CaError('storage', `${c.file} was not issued by the root in ${files.rootFile}; remove it (a new intermediate will be made)`);
    }
    if (c.notAfter <= now) files.removeIntermediate(c);
    else out.push(c);
  }
  return out;
}

export function createIntermediate(o: ResolvedOptions, files: CaKeyFiles, root: CaCredential, now: number): CaCredential {
  const window = nextIntermediateWindow(now, o.intermediateTtlMs, root.notAfter);
  if (window.notAfter <= now) {
    throw new CaError('internal', `the root CA expires at ${new Date(root.notAfter).toISOString()}; no intermediate can be made`);
  }
  const made = createIntermediateCertificate(o.trustDomain, window, root);
  return files.saveIntermediate(made.certDer, made.key, window.notBefore);
}

/** The intermediate to sign with at `now`: valid now, and the latest to expire. */
export function pickSigning(intermediates: readonly CaCredential[], now: number): CaCredential | null {
  let best: CaCredential | null = null;
  for (const c of intermediates) {
    if (c.notBefore <= now + BACKDATE_MS && c.notAfter > now && (best === null || c.notAfter > best.notAfter)) best = c;
  }
  return best;
}
