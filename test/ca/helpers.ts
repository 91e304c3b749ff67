/**
 * Shared pieces for the CA tests: temp data directories, an adjustable clock, CSRs made by an independent
 * implementation (@peculiar/x509, and openssl for keys WebCrypto cannot make), PEM splitting.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { x509 } from '../../certs/x509.js';
import { pemBlocks } from '../../certs/pem.js';
import { openAuthority, type Authority, type AuthorityOptions } from '../../ca/authority.js';

export const TD = 'example.org';
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

const dirs: string[] = [];

export function tempDir(prefix = 'tollgate-ca-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** A clock tests move by hand. */
export function manualClock(start = Date.now()) {
  let t = start;
  return {
    now: () => t,
    set: (v: number) => {
      t = v;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

const opened: Authority[] = [];

/** openAuthority on a fresh (or given) temp dir; closed by closeAll(). */
export async function open(opts: Partial<AuthorityOptions> = {}): Promise<Authority> {
  const ca = await openAuthority({ dataDir: opts.dataDir ?? tempDir(), trustDomain: TD, ...opts });
  opened.push(ca);
  return ca;
}

export async function closeAll(): Promise<void> {
  try {
    for (const ca of opened.splice(0)) {
      try {
        await ca.close();
      } catch {
        // keep closing the others; the directories go either way
      }
    }
  } finally {
    removeTempDirs();
  }
}

const P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export function p256Keys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(P256, true, ['sign', 'verify']);
}

/** A P-256 CSR from @peculiar/x509, optionally asking for SANs the CA must ignore. */
export async function makeCsr(
  opts: { keys?: CryptoKeyPair; subject?: string; uris?: string[]; dns?: string[] } = {},
): Promise<{ der: Buffer; keys: CryptoKeyPair }> {
  const keys = opts.keys ?? (await p256Keys());
  const names: x509.JsonGeneralName[] = [
    ...(opts.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(opts.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: opts.subject ?? 'CN=agent',
    keys,
    signingAlgorithm: P256,
    extensions: names.length ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return { der: Buffer.from(csr.rawData), keys };
}

/** A CSR made by the openssl CLI: `keyArgs` like ['-newkey', 'rsa:2048'] or ['-newkey', 'ed25519']. */
export function opensslCsr(keyArgs: string[]): Buffer {
  const dir = tempDir('tollgate-csr-');
  const out = path.join(dir, 'req.der');
  const r = spawnSync(
    'openssl',
    ['req', '-new', ...keyArgs, '-nodes', '-keyout', path.join(dir, 'key.pem'), '-subj', '/CN=agent', '-outform', 'DER', '-out', out],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return fs.readFileSync(out);
}

/** A P-256 CSR whose public key is in compressed form (03/02 || X), made by openssl. */
export function opensslCompressedCsr(): Buffer {
  const dir = tempDir('tollgate-csr-');
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'key.pem']);
  run(['ec', '-in', 'key.pem', '-conv_form', 'compressed', '-out', 'compressed.pem']);
  run(['req', '-new', '-key', 'compressed.pem', '-subj', '/CN=agent', '-outform', 'DER', '-out', 'req.der']);
  return fs.readFileSync(path.join(dir, 'req.der'));
}

export function chainDer(pem: string): Buffer[] {
  return pemBlocks(pem, 'CERTIFICATE');
}

export function parseCert(der: Uint8Array): x509.X509Certificate {
  return new x509.X509Certificate(der as Uint8Array<ArrayBuffer>);
}

/** A CaError-shaped rejection with this code (and, optionally, message text). */
export async function expectCaError(p: Promise<unknown> | (() => unknown), code: string, message?: RegExp): Promise<Error & { code: string }> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  if (!err) throw new Error(`expected CaError(${code}), but it succeeded`);
  const e = err as Error & { code: string; name: string };
  if (e.name !== 'CaError' || e.code !== code) throw new Error(`expected CaError(${code}), got ${e.name}(${e.code}): ${e.message}`);
  if (message && !message.test(e.message)) throw new Error(`CaError(${code}) message ${JSON.stringify(e.message)} does not match ${message}`);
  return e;
}
