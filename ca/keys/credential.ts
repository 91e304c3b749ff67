/**
 * A CA credential: a CA certificate and its private key, kept together in one PEM file so a rename
 * replaces both at once (never a new key beside an old certificate). This module turns file text into a
 * checked credential and back; it does no I/O.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { CaError } from '../api.js';
import { derToPem, pemBlocks, fingerprint } from '../../certs/pem.js';
import { normalizeSerial } from '../../certs/svid.js';
import { TAG, children, content, decodeOid, decodeTime, expectTag, readWhole, whole } from '../der.js';
import { OID } from '../oids.js';
import type { Issuer } from '../template.js';

export interface CaCredential extends Issuer {
  certDer: Buffer;
  certPem: string;
  serial: string;
  notBefore: number;
  notAfter: number;
  fingerprint: string;
  /** where it was loaded from or saved to */
  file: string;
}

/** The fields of our own CA certificates the CA needs back: exact subject bytes, validity, SKI. */
function readCaCertificate(der: Buffer): { subjectDer: Buffer; notBefore: number; notAfter: number; keyId: Buffer } {
  const cert = readWhole(der, TAG.SEQUENCE);
  const [tbsT] = children(der, cert);
  const fields = children(der, expectTag(tbsT, TAG.SEQUENCE, 'tbsCertificate'));
  const f = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields; // skip the [0] version
  const [, , , validityT, subjectT, , extsT] = f;
  const [nbT, naT] = children(der, expectTag(validityT, TAG.SEQUENCE, 'validity'));
  let keyId: Buffer | null = null;
  if (extsT && extsT.tag === 0xa3) {
    const [list] = children(der, extsT);
    for (const ext of children(der, expectTag(list, TAG.SEQUENCE, 'extensions'))) {
      const parts = children(der, ext);
      if (decodeOid(content(der, expectTag(parts[0], TAG.OID, 'extension id'))) !== OID.subjectKeyIdentifier) continue;
      const value = content(der, expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extension value'));
      keyId = content(value, readWhole(value, TAG.OCTET_STRING));
    }
  }
  if (!keyId) throw new Error('the certificate has no subjectKeyIdentifier');
  return {
    subjectDer: Buffer.from(whole(der, expectTag(subjectT, TAG.SEQUENCE, 'subject'))),
    notBefore: decodeTime(der, nbT),
    notAfter: decodeTime(der, naT),
    keyId: Buffer.from(keyId),
  };
}

function corrupt(file: string, detail: string, cause?: unknown): CaError {
  return new CaError(
    'storage',
    `${file} is corrupt or not a Tollgate CA file (${detail}); restore it from a backup, or move the data directory aside to start a new CA (every agent must then bootstrap again)`,
    { cause },
  );
}

/** Parse and check a credential file's text. Throws CaError('storage') naming `file` on any problem. */
export function parseCredential(text: string, file: string): CaCredential {
  const certs = pemBlocks(text, 'CERTIFICATE');
  const keys = pemBlocks(text, 'PRIVATE KEY');
  if (certs.length !== 1 || keys.length !== 1) {
    throw corrupt(file, `expected one CERTIFICATE and one PRIVATE KEY block, found ${certs.length} and ${keys.length}`);
  }
  const certDer = certs[0];
  let node: X509Certificate;
  let key: KeyObject;
  let fields: ReturnType<typeof readCaCertificate>;
  try {
    node = new X509Certificate(certDer);
    fields = readCaCertificate(certDer);
  } catch (e) {
    throw corrupt(file, 'the certificate does not parse', e);
  }
  try {
    key = createPrivateKey({ key: keys[0], format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw corrupt(file, 'the private key does not parse', e);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw corrupt(file, 'the private key is not EC P-256');
  }
  if (!node.checkPrivateKey(key)) throw corrupt(file, 'the private key does not match the certificate');
  if (!node.ca) throw corrupt(file, 'the certificate is not a CA certificate');
  return {
    certDer,
    certPem: derToPem(certDer),
    key,
    subjectDer: fields.subjectDer,
    keyId: fields.keyId,
    serial: normalizeSerial(node.serialNumber),
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    fingerprint: fingerprint(certDer),
    file,
  };
}

/** The file text for a credential: certificate first, then the PKCS#8 key. */
export function formatCredential(certDer: Buffer, key: KeyObject): string {
  return derToPem(certDer) + (key.export({ format: 'pem', type: 'pkcs8' }) as string);
}

/** SHA-256 of a certificate, hex: short stable tag for file names. */
export const shortHash = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex').slice(0, 12);
