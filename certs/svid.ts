import { X509Certificate as NodeX509 } from 'node:crypto';
import { x509 } from './x509.js';
import { CertError } from './errors.js';
import { parseWorkloadId, type SpiffeId } from './spiffe-id.js';

/**
 * Validate a peer's X.509-SVID from DER bytes (never from Node's `subjectaltname` string, which a
 * crafted SAN containing ", URI:" can fool: CVE-2021-44532 class).
 *
 * Checks, in order: parse; chain to the bundle (signatures via node:crypto, issuers must be CAs with
 * keyCertSign, every certificate in its validity window with `skewMs` allowance); leaf has exactly one
 * URI SAN holding a workload SPIFFE ID; cA=false; keyUsage has digitalSignature and neither keyCertSign
 * nor cRLSign; EKU (if present, and it must be for our purpose) contains clientAuth or serverAuth;
 * trust domain matches.
 */
export type SvidUsage = 'client' | 'server';

export interface SvidValidationOptions {
  /** leaf first, then any intermediates the peer sent */
  chain: readonly Uint8Array[];
  /** trust anchors (roots), DER */
  bundle: readonly Uint8Array[];
  /** ms since epoch */
  now: number;
  /** allowance for clock skew, ms (default 30 s) */
  skewMs?: number;
  trustDomain: string;
  usage: SvidUsage;
}

export interface ValidatedSvid {
  id: SpiffeId;
  /** lowercase hex, no separators: the key used by the revocation store */
  serial: string;
  notBefore: number;
  notAfter: number;
}

const OID_SAN = '2.5.29.17';
const EKU_SERVER = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT = '1.3.6.1.5.5.7.3.2';
const MAX_CHAIN = 5;

interface Parsed {
  der: Uint8Array;
  node: NodeX509;
  cert: x509.X509Certificate;
}

function parse(der: Uint8Array, what: string): Parsed {
  try {
    return { der, node: new NodeX509(der), cert: new x509.X509Certificate(der as Uint8Array<ArrayBuffer>) };
  } catch (cause) {
    throw new CertError('svid_parse', `the ${what} is not a valid DER X.509 certificate`, { cause });
  }
}

/** Lowercase hex serial without leading zero bytes' sign padding ambiguity. */
export function normalizeSerial(hex: string): string {
  const h = hex.replace(/[^0-9a-fA-F]/g, '').toLowerCase().replace(/^0+/, '');
  return h.length === 0 ? '0' : h;
}

function checkTime(p: Parsed, now: number, skew: number, what: string): void {
  if (now + skew < p.cert.notBefore.getTime()) {
    throw new CertError('svid_not_yet_valid', `the ${what} is not valid until ${p.cert.notBefore.toISOString()}`);
  }
  if (now - skew > p.cert.notAfter.getTime()) {
    throw new CertError('svid_expired', `the ${what} expired at ${p.cert.notAfter.toISOString()}`);
  }
}

function isCa(p: Parsed): boolean {
  const bc = p.cert.getExtension(x509.BasicConstraintsExtension);
  return bc !== null && bc.ca;
}

function keyUsage(p: Parsed): number | null {
  const ku = p.cert.getExtension(x509.KeyUsagesExtension);
  return ku === null ? null : ku.usages;
}

function signedBy(child: Parsed, issuer: Parsed): boolean {
  // checkIssued compares names (and key ids); verify checks the signature itself.
  try {
    return child.node.checkIssued(issuer.node) && child.node.verify(issuer.node.publicKey);
  } catch {
    return false;
  }
}

/** Build and check the path leaf -> intermediates -> bundle root. Returns the certificates on the path. */
function verifyChain(leaf: Parsed, pool: Parsed[], roots: Parsed[], now: number, skew: number): void {
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    for (const root of roots) {
      if (current.der === root.der || Buffer.compare(Buffer.from(current.der), Buffer.from(root.der)) === 0) {
        if (depth === 0) throw new CertError('svid_chain', 'the leaf is itself a trust anchor, not an SVID');
        return;
      }
      if (signedBy(current, root)) {
        checkIssuer(root, now, skew, 'trust bundle root');
        return;
      }
    }
    const next = pool.find((c) => c !== current && signedBy(current, c));
    if (!next) {
      throw new CertError('svid_chain', 'the certificate does not chain to the trust bundle (unknown or wrong signer)');
    }
    checkIssuer(next, now, skew, 'intermediate CA certificate');
    current = next;
  }
  throw new CertError('svid_chain', `the certificate chain is longer than ${MAX_CHAIN}`);
}

function checkIssuer(p: Parsed, now: number, skew: number, what: string): void {
  if (!isCa(p)) throw new CertError('svid_chain', `the ${what} is not a CA (basicConstraints cA=false)`);
  const ku = keyUsage(p);
  if (ku !== null && (ku & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw new CertError('svid_chain', `the ${what} lacks keyCertSign`);
  }
  checkTime(p, now, skew, what);
}

/** Parse a list of DER roots once (reuse across validations). */
export class TrustBundle {
  readonly roots: readonly Parsed[];
  constructor(bundle: readonly Uint8Array[]) {
    this.roots = bundle.map((d, i) => parse(d, `trust bundle certificate #${i + 1}`));
  }
}

/**
 * The SPIFFE ID held by the single URI SAN of a certificate, read from the DER SAN extension.
 * Throws when there is no SAN, no URI SAN, or more than one.
 */
export function uriSanOf(cert: x509.X509Certificate): string {
  const exts = cert.extensions.filter((e) => e.type === OID_SAN);
  if (exts.length !== 1) throw new CertError('svid_uri_san', exts.length === 0 ? 'the certificate has no subjectAltName' : 'the certificate has more than one subjectAltName extension');
  const san = exts[0] instanceof x509.SubjectAlternativeNameExtension ? exts[0] : new x509.SubjectAlternativeNameExtension(exts[0].rawData);
  const uris = san.names.items.filter((n) => n.type === 'url');
  if (uris.length === 0) throw new CertError('svid_uri_san', 'the certificate has no URI SAN');
  if (uris.length > 1) throw new CertError('svid_uri_san', `the certificate has ${uris.length} URI SANs; an SVID has exactly one`);
  return uris[0].value;
}

export function validateSvid(opts: SvidValidationOptions, bundle?: TrustBundle): ValidatedSvid {
  const skew = opts.skewMs ?? 30_000;
  if (opts.chain.length === 0) throw new CertError('svid_parse', 'no certificate was presented');
  const leaf = parse(opts.chain[0], 'leaf certificate');
  const pool = opts.chain.slice(1).map((d, i) => parse(d, `chain certificate #${i + 2}`));
  const tb = bundle ?? new TrustBundle(opts.bundle);

  // Leaf shape first: these are cheap and give the clearest reason for a crafted certificate.
  let uri: string;
  uri = uriSanOf(leaf.cert);
  let id: SpiffeId;
  try {
    id = parseWorkloadId(uri);
  } catch (e) {
    throw new CertError('svid_uri_san', `the URI SAN is not a workload SPIFFE ID: ${(e as Error).message}`);
  }
  if (isCa(leaf)) throw new CertError('svid_basic_constraints', 'the leaf certificate is a CA (basicConstraints cA=true)');
  const ku = keyUsage(leaf);
  if (ku === null) throw new CertError('svid_key_usage', 'the leaf certificate has no keyUsage extension');
  if ((ku & x509.KeyUsageFlags.digitalSignature) === 0) throw new CertError('svid_key_usage', 'the leaf keyUsage lacks digitalSignature');
  if (ku & x509.KeyUsageFlags.keyCertSign) throw new CertError('svid_key_usage', 'the leaf keyUsage has keyCertSign');
  if (ku & x509.KeyUsageFlags.cRLSign) throw new CertError('svid_key_usage', 'the leaf keyUsage has cRLSign');
  const eku = leaf.cert.getExtension(x509.ExtendedKeyUsageExtension);
  const want = opts.usage === 'client' ? EKU_CLIENT : EKU_SERVER;
  if (!eku) throw new CertError('svid_ext_key_usage', `the leaf has no extendedKeyUsage; ${opts.usage}Auth is required`);
  if (!eku.usages.map(String).includes(want)) {
    throw new CertError('svid_ext_key_usage', `the leaf extendedKeyUsage lacks ${opts.usage}Auth`);
  }
  checkTime(leaf, opts.now, skew, 'leaf certificate');
  verifyChain(leaf, pool, tb.roots as Parsed[], opts.now, skew);
  if (id.trustDomain !== opts.trustDomain.toLowerCase()) {
    throw new CertError('svid_trust_domain', `the SPIFFE ID ${id.uri} is not in trust domain ${opts.trustDomain}`);
  }
  return {
    id,
    serial: normalizeSerial(leaf.cert.serialNumber),
    notBefore: leaf.cert.notBefore.getTime(),
    notAfter: leaf.cert.notAfter.getTime(),
  };
}
