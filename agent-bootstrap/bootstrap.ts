/**
 * Getting an identity (bootstrap) and renewing it. Trust is never taken from the network: the root
 * the server offers must match the fingerprint the operator pinned, and only that root is trusted for the
 * Bootstrap call that carries the token.
 */
import { fingerprint, parseFingerprint, pemBlocks, derToPem } from '../certs/pem.js';
import { BootstrapError } from './errors.js';
import { newKeyAndCsr } from './keys.js';
import { toMaterial, type SvidMaterial } from './material.js';
import { writeIdentityFiles } from './files.js';
import { callBootstrap, callRenew, checkServerAddress, fetchTrustBundleUnverified, type CallOptions } from './client.js';
import type { SvidResponse__Output } from '../protocol/identity.js';

export interface BootstrapOptions extends CallOptions {
  /** control listener, HOST:PORT */
  server: string;
  token: string;
  /** `sha256:<hex>` of the root, as printed by `tollgate ca init` / `tollgate serve` */
  fingerprint: string;
  /** when set, key.pem / cert.pem / bundle.pem are written there atomically */
  outDir?: string;
}

/** Pure: pick the pinned root out of an untrusted bundle, or refuse. */
export function pinnedRoot(bundlePem: string, pinned: string): Buffer {
  const want = parseFingerprint(pinned);
  if (!want) throw new BootstrapError('invalid_argument', `invalid fingerprint ${JSON.stringify(pinned)}: expected sha256:<64 hex digits>`);
  const roots = pemBlocks(bundlePem);
  if (roots.length === 0) throw new BootstrapError('bad_response', 'the server sent an empty trust bundle');
  const match = roots.find((der) => fingerprint(der) === `sha256:${want}`);
  if (!match) {
    const got = roots.map((d) => fingerprint(d)).join(', ');
    throw new BootstrapError(
      'fingerprint_mismatch',
      `the server's root certificate (${got}) does not match the pinned fingerprint sha256:${want}; you may be talking to the wrong server or be intercepted: check --server and the fingerprint printed by \`tollgate serve\``,
    );
  }
  return match;
}

function materialFrom(res: SvidResponse__Output, keyPem: string, source: string): SvidMaterial {
  return toMaterial(keyPem, res.certChainPem, res.bundlePem, source);
}

export async function bootstrap(opts: BootstrapOptions): Promise<SvidMaterial> {
  checkServerAddress(opts.server);
  if (!parseFingerprint(opts.fingerprint)) {
    throw new BootstrapError('invalid_argument', `invalid fingerprint ${JSON.stringify(opts.fingerprint)}: expected sha256:<64 hex digits>`);
  }
  if (!opts.token || !opts.token.trim()) throw new BootstrapError('invalid_argument', 'the join token is empty');

  const offered = await fetchTrustBundleUnverified(opts.server, opts);
  // Only the pinned root: extra roots in an unverified answer could be an attacker's.
  const root = pinnedRoot(offered.bundlePem, opts.fingerprint);
  const { keyPem, csrDer } = await newKeyAndCsr();
  const res = await callBootstrap(opts.server, derToPem(root), opts.token.trim(), csrDer, opts);
  const material = materialFrom(res, keyPem, 'the Bootstrap answer');
  if (opts.outDir) await writeIdentityFiles(opts.outDir, material);
  return material;
}

/** Renew with the current identity (mTLS); a new key every time. Does not write files. */
export async function renew(server: string, current: SvidMaterial, opts: CallOptions = {}): Promise<SvidMaterial> {
  const { keyPem, csrDer } = await newKeyAndCsr();
  const res = await callRenew(server, current, csrDer, opts);
  const next = materialFrom(res, keyPem, 'the Renew answer');
  if (next.spiffeId !== current.spiffeId) {
    throw new BootstrapError('bad_response', `the CA renewed ${current.spiffeId} as ${next.spiffeId}; refusing the changed identity`);
  }
  return next;
}
