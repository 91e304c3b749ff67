/** Object identifiers the CA reads or writes, pre-encoded once. */
import { oid } from './der.js';

export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
  secp256k1: '1.3.132.0.10',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaPss: '1.2.840.113549.1.1.10',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Names for key algorithms a CSR may carry, so a refusal says what was sent. */
export const KEY_ALGORITHM_NAMES: Record<string, string> = {
  [OID.rsaEncryption]: 'RSA',
  [OID.rsaPss]: 'RSA-PSS',
  [OID.ed25519]: 'Ed25519',
  [OID.ed448]: 'Ed448',
  [OID.secp384r1]: 'EC P-384',
  [OID.secp521r1]: 'EC P-521',
  [OID.secp256k1]: 'EC secp256k1',
};

export const ENCODED = {
  ecPublicKey: oid(OID.ecPublicKey),
  prime256v1: oid(OID.prime256v1),
};
