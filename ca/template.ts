/**
 * What each certificate the CA signs contains, and the one function that signs them. All ECDSA P-256 with
 * SHA-256. The parts that never change (algorithm identifier, leaf extensions, the issuer's name and key
 * identifier) are encoded once; per certificate only serial, validity, key and SANs are encoded.
 *
 * Leaf (X.509-SVID, spiffe/spiffe standards/X509-SVID.md): basicConstraints cA=false (critical),
 * keyUsage digitalSignature only (critical), EKU serverAuth+clientAuth, exactly one URI SAN (plus
 * dNSName/iPAddress for the gateway), SKI and AKI.
 * CA (root, intermediate): cA=true with a path length, keyCertSign+cRLSign (critical), URI SAN of the
 * trust domain (a signing certificate's SPIFFE ID has no path), SKI, and AKI on the intermediate.
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { bitString, bool, explicit, implicitPrimitive, octetString, oid, seq, set, smallInteger, time, unsignedInteger, utf8String } from './der.js';
import { OID } from './oids.js';

/** The signing side of a certificate: what a child certificate copies from its issuer. */
export interface Issuer {
  /** the issuer's subject Name, DER, exactly as in its certificate */
  subjectDer: Buffer;
  /** the issuer's subject key identifier */
  keyId: Buffer;
  key: KeyObject;
}

export interface CertificateSpec {
  serial: Buffer;
  notBefore: number;
  notAfter: number;
  subjectDer: Buffer;
  spkiDer: Buffer;
  extensions: Buffer[];
}

const ECDSA_SHA256 = seq(oid(OID.ecdsaWithSha256));
const V3 = explicit(0, smallInteger(2));

/** Extension ids, encoded once. */
const EXT = {
  basicConstraints: oid(OID.basicConstraints),
  keyUsage: oid(OID.keyUsage),
  extKeyUsage: oid(OID.extKeyUsage),
  subjectAltName: oid(OID.subjectAltName),
  subjectKeyIdentifier: oid(OID.subjectKeyIdentifier),
  authorityKeyIdentifier: oid(OID.authorityKeyIdentifier),
};
const CRITICAL = bool(true);

function extension(id: Buffer, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(id, CRITICAL, octetString(value)) : seq(id, octetString(value));
}

// keyUsage bits (RFC 5280 §4.2.1.3), as a DER BIT STRING: bit 0 is the most significant bit of byte 0
const KU_DIGITAL_SIGNATURE = bitString(Buffer.from([0x80]), 7);
const KU_CERT_SIGN_CRL_SIGN = bitString(Buffer.from([0x06]), 1);

/** The leaf extensions that are the same for every SVID, concatenated. */
const LEAF_FIXED_EXTENSIONS = Buffer.concat([
  extension(EXT.basicConstraints, true, seq()),
  extension(EXT.keyUsage, true, KU_DIGITAL_SIGNATURE),
  extension(EXT.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))),
]);

export function name(parts: { o?: string; cn?: string }): Buffer {
  const rdns: Buffer[] = [];
  if (parts.o) rdns.push(set(seq(oid(OID.organization), utf8String(parts.o))));
  if (parts.cn) rdns.push(set(seq(oid(OID.commonName), utf8String(parts.cn.slice(0, 64)))));
  return seq(...rdns);
}

/** The subject every SVID gets: the identity lives in the URI SAN, not in the subject. */
export const SVID_SUBJECT = name({ o: 'Tollgate' });

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (the EC point). */
export function keyIdOf(point: Uint8Array): Buffer {
  return createHash('sha1').update(point).digest();
}

// Serials are drawn from a pool refilled from the CSPRNG 256 at a time: one randomBytes call per
// certificate cost more than the rest of the certificate encoding.
const SERIAL_BYTES = 16;
let serialPool = Buffer.alloc(0);
let serialPos = 0;

/** A fresh 128-bit random serial (RFC 5280: positive, non-zero, at most 20 octets once encoded). */
export function randomSerial(): Buffer {
  for (;;) {
    if (serialPos + SERIAL_BYTES > serialPool.length) {
      serialPool = randomBytes(SERIAL_BYTES * 256);
      serialPos = 0;
    }
    const b = Buffer.from(serialPool.subarray(serialPos, serialPos + SERIAL_BYTES));
    serialPool.fill(0, serialPos, serialPos + SERIAL_BYTES); // a used serial never stays in memory to be handed out again
    serialPos += SERIAL_BYTES;
    if (b.some((x) => x !== 0)) return b;
  }
}

export function authorityKeyIdExtension(keyId: Buffer): Buffer {
  return extension(EXT.authorityKeyIdentifier, false, seq(implicitPrimitive(0, keyId)));
}

export function subjectKeyIdExtension(keyId: Buffer): Buffer {
  return extension(EXT.subjectKeyIdentifier, false, octetString(keyId));
}

export interface SanEntries {
  uri: string;
  dns?: string[];
  /** iPAddress octets (4 or 16 bytes) */
  ips?: Buffer[];
}

/** subjectAltName: the URI first, then dNSName [2], iPAddress [7]. Non-critical: the subject is not empty. */
export function subjectAltNameExtension(san: SanEntries): Buffer {
  const names: Buffer[] = [implicitPrimitive(6, Buffer.from(san.uri, 'ascii'))];
  for (const d of san.dns ?? []) names.push(implicitPrimitive(2, Buffer.from(d, 'ascii')));
  for (const ip of san.ips ?? []) names.push(implicitPrimitive(7, ip));
  return extension(EXT.subjectAltName, false, seq(...names));
}

/** Extensions of an SVID leaf. `authorityKeyId` is the issuer's precomputed AKI extension. */
export function leafExtensions(san: SanEntries, point: Uint8Array, authorityKeyId: Buffer): Buffer[] {
  return [LEAF_FIXED_EXTENSIONS, subjectAltNameExtension(san), subjectKeyIdExtension(keyIdOf(point)), authorityKeyId];
}

/** Extensions of a CA certificate; `pathLen` 1 for the root (one intermediate below it), 0 for an intermediate. */
export function caExtensions(trustDomain: string, point: Uint8Array, pathLen: number, issuerKeyId?: Buffer): Buffer[] {
  const exts = [
    extension(EXT.basicConstraints, true, seq(bool(true), smallInteger(pathLen))),
    extension(EXT.keyUsage, true, KU_CERT_SIGN_CRL_SIGN),
    subjectAltNameExtension({ uri: `spiffe://${trustDomain}` }),
    subjectKeyIdExtension(keyIdOf(point)),
  ];
  if (issuerKeyId) exts.push(authorityKeyIdExtension(issuerKeyId));
  return exts;
}

/** Encode the TBSCertificate, sign it with the issuer's key, and return the certificate DER. */
export function signCertificate(spec: CertificateSpec, issuer: Pick<Issuer, 'subjectDer' | 'key'>): Buffer {
  const tbs = seq(
    V3,
    unsignedInteger(spec.serial),
    ECDSA_SHA256,
    issuer.subjectDer,
    seq(time(spec.notBefore), time(spec.notAfter)),
    spec.subjectDer,
    spec.spkiDer,
    explicit(3, seq(...spec.extensions)),
  );
  const signature = sign('sha256', tbs, issuer.key);
  return seq(tbs, ECDSA_SHA256, bitString(signature));
}

/** Whole seconds: X.509 times have no fractions, and the returned notBefore/notAfter must match the certificate. */
export const toSeconds = (ms: number): number => Math.floor(ms / 1000) * 1000;
