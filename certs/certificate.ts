/**
 * The fields SVID validation needs from an X.509 certificate, read from its DER with the strict reader in
 * der.ts: serial, validity, and the extensions node:crypto's X509Certificate does not expose reliably
 * (basicConstraints with pathLenConstraint, keyUsage bits, extendedKeyUsage OIDs, the raw subjectAltName,
 * critical flags). Signatures, issuer matching and public keys stay with node:crypto (svid.ts).
 *
 * Fail closed: the whole certificate structure is walked (RFC 5280 §4.1) and every extension value must be
 * well-formed DER; the ones read here are decoded to the last byte. Any departure is a CertificateDecodeError
 * saying whether the certificate itself or one of its extensions is at fault, so the caller can map it to
 * the same CertError it has always raised.
 */
import {
  DerError,
  TAG,
  checkWellFormed,
  children,
  content,
  decodeOid,
  decodeTime,
  expectTag,
  integerBytes,
  readBoolean,
  readOid,
  readSmallUnsigned,
  readTlv,
  readWhole,
  type Tlv,
} from './der.js';

export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_KEY_USAGE = '2.5.29.15';
export const OID_EXT_KEY_USAGE = '2.5.29.37';
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_ISSUER_ALT_NAME = '2.5.29.18';
export const OID_SUBJECT_KEY_ID = '2.5.29.14';
export const OID_AUTHORITY_KEY_ID = '2.5.29.35';
export const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';
export const OID_CERTIFICATE_POLICIES = '2.5.29.32';
export const OID_AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';

/** keyUsage bits as numbers: bit n of the BIT STRING (n = 0 is the first, most significant bit) is 1 << n. */
export const KeyUsage = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
  encipherOnly: 128,
  decipherOnly: 256,
} as const;

export interface CertExtension {
  oid: string;
  critical: boolean;
  /** the extnValue OCTET STRING's content (a view into the certificate) */
  value: Uint8Array;
}

export interface CertificateFields {
  /** lowercase hex of the serialNumber INTEGER's content octets */
  serialHex: string;
  /** ms since epoch */
  notBefore: number;
  notAfter: number;
  /** every extension, in certificate order */
  extensions: CertExtension[];
  /** null when absent; pathLen undefined when the constraint is absent */
  basicConstraints: { ca: boolean; pathLen: number | undefined } | null;
  /** KeyUsage bit mask; null when absent */
  keyUsage: number | null;
  /** OIDs in dotted form; null when absent */
  extKeyUsage: string[] | null;
  /** the value of each subjectAltName extension (normally exactly one) */
  subjectAltNames: Uint8Array[];
}

export class CertificateDecodeError extends DerError {
  /** the extension at fault, or null when the certificate structure itself is */
  readonly extension: string | null;
  constructor(message: string, extension: string | null) {
    super(message);
    this.name = 'CertificateDecodeError';
    this.extension = extension;
  }
}

const view = (buf: Uint8Array, start: number, end: number): Uint8Array => buf.subarray(start, end);

/** Name ::= SEQUENCE OF RelativeDistinguishedName(SET SIZE(1..MAX) OF AttributeTypeAndValue{type OID, value ANY}). */
function checkName(buf: Uint8Array, name: Tlv, what: string): void {
  expectTag(name, TAG.SEQUENCE, what);
  for (const rdn of children(buf, name)) {
    expectTag(rdn, TAG.SET, `${what} RDN`);
    const atvs = children(buf, rdn);
    if (atvs.length === 0) throw new DerError(`${what} has an empty RDN`);
    for (const atv of atvs) {
      expectTag(atv, TAG.SEQUENCE, `${what} attribute`);
      const [type, value, extra] = children(buf, atv);
      readOid(buf, type, `${what} attribute type`);
      if (!value || extra) throw new DerError(`${what} attribute is not a type and one value`);
      checkWellFormed(buf, value);
    }
  }
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } */
function checkAlgorithm(buf: Uint8Array, t: Tlv | undefined, what: string): void {
  const alg = expectTag(t, TAG.SEQUENCE, what);
  const [id, params, extra] = children(buf, alg);
  readOid(buf, id, `${what} algorithm`);
  if (extra) throw new DerError(`${what} has trailing fields`);
  if (params) checkWellFormed(buf, params);
}

/**
 * GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName, the SEQUENCE starting at offset 0 of `buf`.
 * Each name must be a GeneralName choice in its DER form; x400Address and ediPartyName (never in an SVID) are
 * refused. IA5String contents are not judged here: the URI rule lives with the SVID checks.
 * Bytes after the SEQUENCE are left to the caller (the SVID SAN rule reports them as a malformed SAN).
 */
export function checkGeneralNames(buf: Uint8Array, seq: Tlv): void {
  expectTag(seq, TAG.SEQUENCE, 'GeneralNames');
  const names = children(buf, seq);
  if (names.length === 0) throw new DerError('GeneralNames is empty');
  for (const n of names) {
    switch (n.tag) {
      case 0xa0: {
        // otherName: type-id OID, value [0] EXPLICIT ANY
        const [typeId, value, extra] = children(buf, n);
        readOid(buf, typeId, 'otherName type-id');
        expectTag(value, 0xa0, 'otherName value');
        const inner = children(buf, value);
        if (inner.length !== 1 || extra) throw new DerError('otherName is not a type-id and one value');
        checkWellFormed(buf, inner[0]);
        break;
      }
      case 0x81: // rfc822Name
      case 0x82: // dNSName
      case 0x86: // uniformResourceIdentifier
        break;
      case 0xa4: {
        const inner = children(buf, n);
        if (inner.length !== 1) throw new DerError('directoryName does not hold one Name');
        checkName(buf, inner[0], 'directoryName');
        break;
      }
      case 0x87:
        if (n.end - n.contentStart !== 4 && n.end - n.contentStart !== 16) throw new DerError('iPAddress is neither 4 nor 16 octets');
        break;
      case 0x88:
        decodeOid(content(buf, n));
        break;
      default:
        throw new DerError(`GeneralName tag 0x${n.tag.toString(16)} is not supported`);
    }
  }
}

/** A BIT STRING's framing: an unused-bit count of 0-7 (0 when empty) and those bits zero (DER). */
function checkBitString(buf: Uint8Array, t: Tlv, what: string): void {
  const len = t.end - t.contentStart;
  const unused = buf[t.contentStart];
  if (len < 1 || unused > 7 || (len === 1 && unused !== 0)) throw new DerError(`${what} has a bad unused-bit count`);
  if ((buf[t.end - 1] & ((1 << unused) - 1)) !== 0) throw new DerError(`${what} has non-zero unused bits`);
}

/** KeyUsage BIT STRING -> mask; unused bits must be zero (DER), at most 32 named bits. */
function decodeKeyUsage(buf: Uint8Array, t: Tlv): number {
  expectTag(t, TAG.BIT_STRING, 'keyUsage');
  checkBitString(buf, t, 'keyUsage');
  const len = t.end - t.contentStart;
  if (len > 5) throw new DerError('keyUsage has more than 32 bits');
  let mask = 0;
  for (let i = 1; i < len; i++) {
    const byte = buf[t.contentStart + i];
    for (let b = 0; b < 8; b++) if (byte & (0x80 >> b)) mask += 2 ** ((i - 1) * 8 + b);
  }
  // RFC 5280 4.2.1.3: when the extension appears, at least one bit is set.
  if (mask === 0) throw new DerError('keyUsage has no bit set');
  return mask;
}

/** basicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } */
function decodeBasicConstraints(buf: Uint8Array, t: Tlv): { ca: boolean; pathLen: number | undefined } {
  expectTag(t, TAG.SEQUENCE, 'basicConstraints');
  const parts = children(buf, t);
  let i = 0;
  let ca = false;
  let pathLen: number | undefined;
  if (parts[i]?.tag === TAG.BOOLEAN) ca = readBoolean(buf, parts[i++], 'basicConstraints cA');
  if (parts[i]?.tag === TAG.INTEGER) pathLen = readSmallUnsigned(buf, parts[i++], 'pathLenConstraint');
  if (i !== parts.length) throw new DerError('basicConstraints has unexpected fields');
  return { ca, pathLen };
}

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId(OID) */
function decodeExtKeyUsage(buf: Uint8Array, t: Tlv): string[] {
  expectTag(t, TAG.SEQUENCE, 'extendedKeyUsage');
  const oids = children(buf, t).map((o) => readOid(buf, o, 'extendedKeyUsage purpose'));
  if (oids.length === 0) throw new DerError('extendedKeyUsage is empty');
  return oids;
}

/** AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier, [1] authorityCertIssuer GeneralNames, [2] serial } all optional, in order */
function checkAuthorityKeyId(buf: Uint8Array, t: Tlv): void {
  expectTag(t, TAG.SEQUENCE, 'authorityKeyIdentifier');
  let last = -1;
  for (const c of children(buf, t)) {
    const n = c.tag === 0x80 ? 0 : c.tag === 0xa1 ? 1 : c.tag === 0x82 ? 2 : -1;
    if (n <= last) throw new DerError('authorityKeyIdentifier has unexpected or out-of-order fields');
    last = n;
    if (n === 1) implicitNames(buf, c);
    if (n === 2) integerBytes(buf, { ...c, tag: TAG.INTEGER }, 'authorityCertSerialNumber');
  }
}

/** A GeneralNames value under an IMPLICIT tag (its content is the SEQUENCE OF GeneralName's). */
const implicitNames = (buf: Uint8Array, c: Tlv) => checkGeneralNames(buf, { tag: TAG.SEQUENCE, start: c.start, contentStart: c.contentStart, end: c.end });

/** A non-empty SEQUENCE OF SEQUENCE, each checked by `item`. */
function sequenceOf(buf: Uint8Array, t: Tlv, what: string, item: (parts: Tlv[]) => void): void {
  expectTag(t, TAG.SEQUENCE, what);
  const items = children(buf, t);
  if (items.length === 0) throw new DerError(`${what} is empty`);
  for (const i of items) item(children(buf, expectTag(i, TAG.SEQUENCE, `${what} item`)));
}

/**
 * The other extensions a certificate from an upstream CA commonly carries, decoded to their RFC 5280 shape so
 * a malformed one fails here rather than being passed over (the proxy does not act on them).
 */
function checkOtherKnown(buf: Uint8Array, oid: string, t: Tlv): void {
  switch (oid) {
    case OID_CRL_DISTRIBUTION_POINTS:
      // DistributionPoint ::= SEQUENCE { [0] DistributionPointName OPTIONAL, [1] ReasonFlags OPTIONAL, [2] cRLIssuer OPTIONAL }
      sequenceOf(buf, t, 'cRLDistributionPoints', (parts) => {
        let last = -1;
        for (const c of parts) {
          const n = c.tag === 0xa0 ? 0 : c.tag === 0x81 ? 1 : c.tag === 0xa2 ? 2 : -1;
          if (n <= last) throw new DerError('DistributionPoint has unexpected or out-of-order fields');
          last = n;
          if (n === 0) {
            const name = children(buf, c);
            if (name.length !== 1) throw new DerError('DistributionPointName is not one choice');
            if (name[0].tag === 0xa0) implicitNames(buf, name[0]);
            else if (name[0].tag === 0xa1) checkName(buf, { ...name[0], tag: TAG.SEQUENCE }, 'nameRelativeToCRLIssuer');
            else throw new DerError('DistributionPointName has an unknown choice');
          }
          if (n === 1) checkBitString(buf, c, 'reasons');
          if (n === 2) implicitNames(buf, c);
        }
      });
      break;
    case OID_AUTHORITY_INFO_ACCESS:
      // AccessDescription ::= SEQUENCE { accessMethod OID, accessLocation GeneralName }
      sequenceOf(buf, t, 'authorityInfoAccess', (parts) => {
        if (parts.length !== 2) throw new DerError('AccessDescription is not a method and a location');
        readOid(buf, parts[0], 'accessMethod');
        checkGeneralNames(buf, { tag: TAG.SEQUENCE, start: parts[1].start, contentStart: parts[1].start, end: parts[1].end });
      });
      break;
    case OID_CERTIFICATE_POLICIES:
      // PolicyInformation ::= SEQUENCE { policyIdentifier OID, policyQualifiers SEQUENCE OF PolicyQualifierInfo OPTIONAL }
      sequenceOf(buf, t, 'certificatePolicies', (parts) => {
        if (parts.length < 1 || parts.length > 2) throw new DerError('PolicyInformation has unexpected fields');
        readOid(buf, parts[0], 'policyIdentifier');
        if (parts[1]) {
          sequenceOf(buf, parts[1], 'policyQualifiers', (q) => {
            if (q.length !== 2) throw new DerError('PolicyQualifierInfo is not an id and a qualifier');
            readOid(buf, q[0], 'policyQualifierId');
          });
        }
      });
      break;
  }
}

/** Parse a DER certificate. Throws CertificateDecodeError. */
export function parseCertificate(der: Uint8Array): CertificateFields {
  let fields: Omit<CertificateFields, 'extensions' | 'basicConstraints' | 'keyUsage' | 'extKeyUsage' | 'subjectAltNames'>;
  let extList: Tlv[] = [];
  try {
    const cert = readWhole(der, TAG.SEQUENCE);
    const [tbs, sigAlg, sig, extra] = children(der, cert);
    expectTag(tbs, TAG.SEQUENCE, 'tbsCertificate');
    checkAlgorithm(der, sigAlg, 'signatureAlgorithm');
    expectTag(sig, TAG.BIT_STRING, 'signatureValue');
    if (sig.end - sig.contentStart < 1 || der[sig.contentStart] !== 0) throw new DerError('signatureValue has unused bits');
    if (extra) throw new DerError('certificate has trailing fields');

    const f = children(der, tbs);
    let i = 0;
    let version = 0;
    if (f[i]?.tag === 0xa0) {
      const v = children(der, f[i++]);
      if (v.length !== 1) throw new DerError('version is not one INTEGER');
      version = readSmallUnsigned(der, v[0], 'version');
      if (version !== 1 && version !== 2) throw new DerError(`unsupported version ${version} (an explicit v1 is not DER)`);
    }
    const serial = integerBytes(der, f[i++], 'serialNumber');
    checkAlgorithm(der, f[i++], 'signature');
    checkName(der, expectTag(f[i++], TAG.SEQUENCE, 'issuer'), 'issuer');
    const validity = expectTag(f[i++], TAG.SEQUENCE, 'validity');
    const times = children(der, validity);
    if (times.length !== 2) throw new DerError('validity is not two times');
    const notBefore = decodeTime(der, times[0]);
    const notAfter = decodeTime(der, times[1]);
    checkName(der, expectTag(f[i++], TAG.SEQUENCE, 'subject'), 'subject');
    const spki = expectTag(f[i++], TAG.SEQUENCE, 'subjectPublicKeyInfo');
    const [keyAlg, key, spkiExtra] = children(der, spki);
    checkAlgorithm(der, keyAlg, 'subjectPublicKeyInfo algorithm');
    expectTag(key, TAG.BIT_STRING, 'subjectPublicKey');
    if (key.end - key.contentStart < 2 || der[key.contentStart] !== 0) throw new DerError('subjectPublicKey is not a whole number of octets');
    if (spkiExtra) throw new DerError('subjectPublicKeyInfo has trailing fields');
    for (const [tag, what] of [
      [0x81, 'issuerUniqueID'],
      [0x82, 'subjectUniqueID'],
    ] as const) {
      if (f[i]?.tag !== tag) continue;
      if (version < 1) throw new DerError(`${what} needs v2 or v3`);
      checkBitString(der, f[i++], what);
    }
    if (f[i]?.tag === 0xa3) {
      if (version !== 2) throw new DerError('extensions need v3');
      const wrapped = children(der, f[i++]);
      if (wrapped.length !== 1) throw new DerError('extensions are not one SEQUENCE');
      extList = children(der, expectTag(wrapped[0], TAG.SEQUENCE, 'extensions'));
      if (extList.length === 0) throw new DerError('extensions is empty');
    }
    if (i !== f.length) throw new DerError('tbsCertificate has unexpected fields');
    fields = { serialHex: serial.toString('hex'), notBefore, notAfter };
  } catch (e) {
    throw new CertificateDecodeError((e as Error).message, null);
  }

  const out: CertificateFields = { ...fields, extensions: [], basicConstraints: null, keyUsage: null, extKeyUsage: null, subjectAltNames: [] };
  const seen = new Set<string>();
  for (const e of extList) {
    let oid = '(unreadable)';
    try {
      expectTag(e, TAG.SEQUENCE, 'extension');
      const parts = children(der, e);
      oid = readOid(der, parts[0], 'extnID');
      let j = 1;
      const critical = parts[j]?.tag === TAG.BOOLEAN ? readBoolean(der, parts[j++], 'critical') : false;
      const value = expectTag(parts[j++], TAG.OCTET_STRING, 'extnValue');
      if (j !== parts.length) throw new DerError('extension has unexpected fields');
      if (seen.has(oid) && oid !== OID_SUBJECT_ALT_NAME) throw new DerError('the extension appears more than once');
      seen.add(oid);
      const v = view(der, value.contentStart, value.end);
      out.extensions.push({ oid, critical, value: v });
      if (oid === OID_SUBJECT_ALT_NAME) {
        // GeneralNames from offset 0; bytes after it are the SVID SAN rule's business (svid.ts).
        checkGeneralNames(v, readTlv(v, 0));
        out.subjectAltNames.push(v);
        continue;
      }
      const body = readWhole(v, v[0]);
      checkWellFormed(v, body);
      switch (oid) {
        case OID_BASIC_CONSTRAINTS:
          out.basicConstraints = decodeBasicConstraints(v, body);
          break;
        case OID_KEY_USAGE:
          out.keyUsage = decodeKeyUsage(v, body);
          break;
        case OID_EXT_KEY_USAGE:
          out.extKeyUsage = decodeExtKeyUsage(v, body);
          break;
        case OID_ISSUER_ALT_NAME:
          checkGeneralNames(v, body);
          break;
        case OID_SUBJECT_KEY_ID:
          expectTag(body, TAG.OCTET_STRING, 'subjectKeyIdentifier');
          break;
        case OID_AUTHORITY_KEY_ID:
          checkAuthorityKeyId(v, body);
          break;
        default:
          checkOtherKnown(v, oid, body);
      }
    } catch (err) {
      throw new CertificateDecodeError(`extension ${oid}: ${(err as Error).message}`, oid);
    }
  }
  return out;
}
