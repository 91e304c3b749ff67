/**
 * TEST ONLY: the @peculiar/x509-based validateSvid as it was before certs/svid.ts moved to its own DER reader
 * (commit 10f1b5e), kept verbatim apart from import paths as the reference the differential test compares
 * the new implementation against. Never import this from runtime code.
 */
/* eslint-disable @typescript-eslint/no-meaningless-void-operator -- kept verbatim: `void cert.x` reads lazily parsed getters so a malformed field fails here */
import { X509Certificate as NodeX509 } from 'node:crypto';
import { x509 } from '../../certs/x509.js';
import { CertError } from '../../certs/errors.js';
import { parseWorkloadId, type SpiffeId } from '../../certs/spiffe-id.js';

/**
 * Validate a peer's X.509-SVID from DER bytes (never from Node's `subjectaltname` string, which a
 * crafted SAN containing ", URI:" can fool: CVE-2021-44532 class).
 *
 * Checks, in order: parse (every extension must decode); leaf has exactly one URI SAN (counted from the
 * DER) holding a workload SPIFFE ID; cA=false; keyUsage present with digitalSignature and neither
 * keyCertSign nor cRLSign; extendedKeyUsage present with clientAuth or serverAuth (per `usage`); leaf in
 * its validity window with `skewMs` allowance; chain to the bundle (signatures via node:crypto; issuers
 * must be CAs with keyCertSign, within their pathLenConstraint and validity window); trust domain matches.
 * Leaf shape comes before the chain so a crafted certificate gets the most specific reason.
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
  let cert: x509.X509Certificate;
  let node: NodeX509;
  try {
    cert = new x509.X509Certificate(der as Uint8Array<ArrayBuffer>);
    node = new NodeX509(der);
    void cert.notBefore;
    void cert.notAfter;
    void cert.serialNumber;
  } catch (cause) {
    throw new CertError('svid_parse', `the ${what} is not a valid DER X.509 certificate`, { cause });
  }
  try {
    // @peculiar/x509 decodes extensions lazily; decode them now so a malformed one fails closed here with a
    // CertError instead of escaping later as a plain Error from a getter.
    void cert.extensions;
  } catch (cause) {
    throw new CertError('svid_parse', `the ${what} has an extension that cannot be decoded`, { cause });
  }
  return { der, node, cert };
}

/** Lowercase hex serial without leading zero bytes' sign padding ambiguity. */
export function normalizeSerial(hex: string): string {
  const h = hex
    .replace(/[^0-9a-fA-F]/g, '')
    .toLowerCase()
    .replace(/^0+/, '');
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  // Views, not copies: this runs for every root at every depth.
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Build and check the path leaf -> intermediates -> bundle root. */
function verifyChain(leaf: Parsed, pool: Parsed[], roots: readonly Parsed[], now: number, skew: number): void {
  let current = leaf;
  // depth = number of CA certificates between the issuer being looked for and the leaf (pathLenConstraint).
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    for (const root of roots) {
      if (sameBytes(current.der, root.der)) {
        if (depth === 0) throw new CertError('svid_chain', 'the leaf is itself a trust anchor, not an SVID');
        return;
      }
      if (signedBy(current, root)) {
        checkIssuer(root, now, skew, 'trust bundle root', depth);
        return;
      }
    }
    const next = pool.find((c) => c !== current && signedBy(current, c));
    if (!next) {
      const what = depth === 0 ? 'leaf certificate' : 'intermediate CA certificate';
      throw new CertError('svid_chain', `the ${what} does not chain to the trust bundle (unknown or wrong signer, or a missing intermediate)`);
    }
    checkIssuer(next, now, skew, 'intermediate CA certificate', depth);
    current = next;
  }
  throw new CertError('svid_chain', `the certificate chain is longer than ${MAX_CHAIN}`);
}

function checkIssuer(p: Parsed, now: number, skew: number, what: string, casBelow: number): void {
  const bc = p.cert.getExtension(x509.BasicConstraintsExtension);
  if (bc === null || !bc.ca) throw new CertError('svid_chain', `the ${what} is not a CA (basicConstraints cA=false or absent)`);
  if (bc.pathLength !== undefined && casBelow > bc.pathLength) {
    throw new CertError('svid_chain', `the ${what} allows ${bc.pathLength} CA certificate(s) below it (pathLenConstraint) but the chain has ${casBelow}`);
  }
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
 * The value held by the single URI SAN of a certificate, read from the DER SAN extension.
 * Throws CertError('svid_uri_san') when there is no SAN, no URI SAN, more than one, or the SAN is malformed.
 */
export function uriSanOf(cert: x509.X509Certificate): string {
  const exts = cert.extensions.filter((e) => e.type === OID_SAN);
  if (exts.length !== 1)
    throw new CertError(
      'svid_uri_san',
      exts.length === 0 ? 'the certificate has no subjectAltName' : 'the certificate has more than one subjectAltName extension',
    );
  const uris = uriNamesInSan(new Uint8Array(exts[0].value));
  if (uris.length === 0) throw new CertError('svid_uri_san', 'the certificate has no URI SAN');
  if (uris.length > 1) throw new CertError('svid_uri_san', `the certificate has ${uris.length} URI SANs; an SVID has exactly one`);
  return uris[0];
}

const TAG_SEQUENCE = 0x30;
const TAG_URI = 0x86; // GeneralName [6] IMPLICIT IA5String, primitive
const TAG_URI_CONSTRUCTED = 0xa6;

function malformedSan(why: string): never {
  throw new CertError('svid_uri_san', `the subjectAltName extension is malformed: ${why}`);
}

/** One DER tag-length-value header at `pos`; the content is [start, end). */
function readTlv(buf: Uint8Array, pos: number, limit: number): { tag: number; start: number; end: number } {
  if (pos + 2 > limit) malformedSan('truncated element');
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) malformedSan('unexpected high tag number');
  let len = buf[pos + 1];
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) malformedSan('unsupported length encoding');
    len = 0;
    for (let i = 0; i < n; i++) {
      if (p >= limit) malformedSan('truncated length');
      len = len * 256 + buf[p++];
    }
  }
  if (p + len > limit) malformedSan('element runs past its container');
  return { tag, start: p, end: p + len };
}

/**
 * URI names in a GeneralNames DER value. Walked by hand rather than through @peculiar/x509's GeneralNames,
 * which silently skips entries it cannot decode: a skipped second URI SAN would make a two-URI certificate
 * look like a valid single-URI SVID. Every entry is visited; other name types are allowed and ignored.
 */
function uriNamesInSan(der: Uint8Array): string[] {
  const seq = readTlv(der, 0, der.length);
  if (seq.tag !== TAG_SEQUENCE) malformedSan('GeneralNames is not a SEQUENCE');
  if (seq.end !== der.length) malformedSan('trailing bytes after GeneralNames');
  const out: string[] = [];
  for (let pos = seq.start; pos < seq.end;) {
    const el = readTlv(der, pos, seq.end);
    if (el.tag === TAG_URI_CONSTRUCTED) malformedSan('a URI name uses the constructed form');
    if (el.tag === TAG_URI) {
      let value = '';
      for (let i = el.start; i < el.end; i++) {
        if (der[i] > 0x7e || der[i] < 0x20) {
          throw new CertError('svid_uri_san', 'a URI SAN holds a byte outside printable ASCII, so it is not a SPIFFE ID');
        }
        value += String.fromCharCode(der[i]);
      }
      out.push(value);
    }
    pos = el.end;
  }
  return out;
}

export function validateSvid(opts: SvidValidationOptions, bundle?: TrustBundle): ValidatedSvid {
  const skew = opts.skewMs ?? 30_000;
  if (opts.chain.length === 0) throw new CertError('svid_parse', 'no certificate was presented');
  const leaf = parse(opts.chain[0], 'leaf certificate');
  const pool = opts.chain.slice(1).map((d, i) => parse(d, `chain certificate #${i + 2}`));
  const tb = bundle ?? new TrustBundle(opts.bundle);

  // Leaf shape first: these are cheap and give the clearest reason for a crafted certificate.
  const uri = uriSanOf(leaf.cert);
  let id: SpiffeId;
  try {
    id = parseWorkloadId(uri);
  } catch (e) {
    throw new CertError('svid_uri_san', `the URI SAN is not a workload SPIFFE ID: ${(e as Error).message}`, { cause: e });
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
  verifyChain(leaf, pool, tb.roots, opts.now, skew);
  if (id.trustDomain !== opts.trustDomain) {
    throw new CertError('svid_trust_domain', `the SPIFFE ID ${id.uri} is not in trust domain ${opts.trustDomain}`);
  }
  return {
    id,
    serial: normalizeSerial(leaf.cert.serialNumber),
    notBefore: leaf.cert.notBefore.getTime(),
    notAfter: leaf.cert.notAfter.getTime(),
  };
}
