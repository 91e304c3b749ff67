/**
 * An agent's identity material (key, certificate chain, trust bundle) and the facts read from it.
 * Everything is read from the DER certificate, never from strings the server sent alongside.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { x509 } from '../certs/x509.js';
import { pemBlocks } from '../certs/pem.js';
import { normalizeSerial, uriSanOf } from '../certs/svid.js';
import { parseWorkloadId } from '../certs/spiffe-id.js';
import { BootstrapError } from './errors.js';

export interface SvidMaterial {
  keyPem: string;
  /** leaf then intermediate(s), PEM */
  certChainPem: string;
  /** trust bundle roots, PEM */
  bundlePem: string;
  spiffeId: string;
  trustDomain: string;
  /** lowercase hex */
  serial: string;
  notBefore: number;
  notAfter: number;
}

/**
 * Build and check material: the chain and bundle parse, the leaf has one SPIFFE ID, and the key is the
 * leaf's key (a mismatch would only surface later as a TLS handshake failure far from the cause).
 */
export function toMaterial(keyPem: string, certChainPem: string, bundlePem: string, source = 'identity'): SvidMaterial {
  const chain = pemBlocks(certChainPem);
  if (chain.length === 0) throw new BootstrapError('bad_response', `${source}: the certificate chain has no CERTIFICATE block`);
  if (pemBlocks(bundlePem).length === 0) throw new BootstrapError('bad_response', `${source}: the trust bundle has no CERTIFICATE block`);
  let leaf: x509.X509Certificate;
  let spiffeId: string;
  let trustDomain: string;
  try {
    leaf = new x509.X509Certificate(chain[0] as Uint8Array<ArrayBuffer>);
    const id = parseWorkloadId(uriSanOf(leaf));
    spiffeId = id.uri;
    trustDomain = id.trustDomain;
  } catch (cause) {
    throw new BootstrapError('bad_response', `${source}: the leaf certificate is not an SVID: ${(cause as Error).message}`, { cause });
  }
  let keyMatches: boolean;
  try {
    const fromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
    const fromCert = new X509Certificate(chain[0]).publicKey.export({ type: 'spki', format: 'der' });
    keyMatches = fromKey.equals(fromCert);
  } catch (cause) {
    throw new BootstrapError('bad_response', `${source}: the private key cannot be read`, { cause });
  }
  if (!keyMatches) throw new BootstrapError('bad_response', `${source}: the private key does not belong to the certificate`);
  return {
    keyPem,
    certChainPem,
    bundlePem,
    spiffeId,
    trustDomain,
    serial: normalizeSerial(leaf.serialNumber),
    notBefore: leaf.notBefore.getTime(),
    notAfter: leaf.notAfter.getTime(),
  };
}

export function bundleDerOf(m: SvidMaterial): Buffer[] {
  return pemBlocks(m.bundlePem);
}
