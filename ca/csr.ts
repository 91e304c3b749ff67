/**
 * PKCS#10 certification requests (RFC 2986): parse, require an EC P-256 key, check proof of possession.
 * Only the public key is taken from a CSR. The subject, SANs and every other attribute it asks for are
 * never read: the CA decides the identity (from the join token or the renewing peer's SVID).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CaError } from './api.js';
import { DerError, TAG, children, content, decodeOid, expectTag, readWhole, whole, type Tlv } from './der.js';
import { ENCODED, KEY_ALGORITHM_NAMES, OID } from './oids.js';

export interface CsrPublicKey {
  /** uncompressed point 04||X||Y (65 bytes) */
  point: Buffer;
  /** SubjectPublicKeyInfo DER of the key, uncompressed form (what the certificate carries) */
  spkiDer: Buffer;
}

const SIGNATURE_HASH: Record<string, string> = {
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
};

/** SubjectPublicKeyInfo header for a P-256 uncompressed point; the 65 point bytes follow. */
export const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

export function p256Spki(point: Uint8Array): Buffer {
  return Buffer.concat([P256_SPKI_PREFIX, point]);
}

function bad(message: string, cause?: unknown): CaError {
  return new CaError('invalid_argument', `invalid CSR: ${message}`, { cause });
}

interface ParsedCsr {
  info: Buffer;
  spki: Tlv;
  sigOid: string;
  signature: Buffer;
}

function parseStructure(der: Uint8Array): ParsedCsr {
  const outer = readWhole(der, TAG.SEQUENCE);
  const [infoT, algT, sigT, extra] = children(der, outer);
  if (extra) throw new DerError('unexpected element after the signature');
  const info = expectTag(infoT, TAG.SEQUENCE, 'certificationRequestInfo');
  const [versionT, subjectT, spkiT] = children(der, info);
  const version = content(der, expectTag(versionT, TAG.INTEGER, 'version'));
  if (version.length !== 1 || version[0] !== 0) throw new DerError('version must be 0 (v1)');
  expectTag(subjectT, TAG.SEQUENCE, 'subject');
  const spki = expectTag(spkiT, TAG.SEQUENCE, 'subjectPKInfo');

  const [sigOidT] = children(der, expectTag(algT, TAG.SEQUENCE, 'signatureAlgorithm'));
  const sigOid = decodeOid(content(der, expectTag(sigOidT, TAG.OID, 'signature algorithm')));
  const sigBits = content(der, expectTag(sigT, TAG.BIT_STRING, 'signature'));
  if (sigBits.length < 2 || sigBits[0] !== 0) throw new DerError('malformed signature bit string');
  return { info: whole(der, info), spki, sigOid, signature: sigBits.subarray(1) };
}

/** Insist on id-ecPublicKey over the named curve P-256; name whatever else was sent. */
function p256Point(der: Uint8Array, spki: Tlv): Buffer {
  const [algT, keyT] = children(der, spki);
  const [algOidT, paramT] = children(der, expectTag(algT, TAG.SEQUENCE, 'key algorithm'));
  const algOid = expectTag(algOidT, TAG.OID, 'key algorithm');
  const algDer = whole(der, algOid);
  let keyName: string | null = null;
  if (!algDer.equals(ENCODED.ecPublicKey)) {
    const dotted = decodeOid(content(der, algOid));
    keyName = KEY_ALGORITHM_NAMES[dotted] ?? `algorithm ${dotted}`;
  } else if (!paramT || paramT.tag !== TAG.OID) {
    keyName = 'EC with explicit curve parameters';
  } else if (!whole(der, paramT).equals(ENCODED.prime256v1)) {
    const dotted = decodeOid(content(der, paramT));
    keyName = KEY_ALGORITHM_NAMES[dotted] ?? `EC curve ${dotted}`;
  }
  if (keyName !== null) {
    throw new CaError('invalid_argument', `the CSR's key is ${keyName}; Tollgate issues SVIDs only for EC P-256 (prime256v1) keys`);
  }
  const bits = content(der, expectTag(keyT, TAG.BIT_STRING, 'subjectPublicKey'));
  if (bits.length < 2 || bits[0] !== 0) throw new DerError('malformed public key bit string');
  return bits.subarray(1);
}

function publicKeyOf(point: Buffer, spkiDer: Buffer): KeyObject {
  // A JWK import is ~2× cheaper than an SPKI import in Node 20 (OpenSSL 3 decoders); both check the point.
  if (point.length === 65 && point[0] === 0x04) {
    return createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
      format: 'jwk',
    });
  }
  return createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
}

/**
 * Parse a DER CSR and verify its self-signature (proof of possession of the private key).
 * Throws CaError('invalid_argument') for a malformed CSR or a key that is not P-256, and
 * CaError('bad_csr_signature') when the signature does not verify.
 */
export function verifyCsr(csrDer: Uint8Array): CsrPublicKey {
  if (!(csrDer instanceof Uint8Array) || csrDer.length === 0) throw bad('it is empty (expected a DER PKCS#10 request)');
  let parsed: ParsedCsr;
  let point: Buffer;
  try {
    parsed = parseStructure(csrDer);
    point = p256Point(csrDer, parsed.spki); // the key type first: its refusal is the most useful message
  } catch (e) {
    if (e instanceof CaError) throw e;
    throw bad(`it is not a DER PKCS#10 request (${(e as Error).message})`, e);
  }
  const hash = SIGNATURE_HASH[parsed.sigOid];
  if (!hash) throw bad(`signature algorithm ${parsed.sigOid} is not ECDSA with SHA-256/384/512`);
  let key: KeyObject;
  try {
    key = publicKeyOf(point, whole(csrDer, parsed.spki));
  } catch (e) {
    throw bad('its public key is not a valid P-256 point', e);
  }
  let ok: boolean;
  try {
    ok = verify(hash, parsed.info, key, parsed.signature);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new CaError('bad_csr_signature', 'the CSR signature does not verify: the request must be signed with the private key of the public key it carries');
  }
  if (point.length !== 65) {
    // compressed point: the certificate carries the uncompressed form, which every TLS stack accepts
    const jwk = key.export({ format: 'jwk' });
    point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  }
  return { point, spkiDer: p256Spki(point) };
}
