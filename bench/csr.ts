import { generateKeyPairSync, sign } from 'node:crypto';
import { bitString, explicit, oid, seq, smallInteger } from '../ca/der.js';
import { OID } from '../ca/oids.js';
import { name } from '../ca/template.js';

/** A PKCS#10 request for a fresh P-256 key, built directly (the CA is what is measured, not a CSR library). */
export function p256Csr(): Buffer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const info = seq(smallInteger(0), name({ cn: 'bench' }), publicKey.export({ format: 'der', type: 'spki' }), explicit(0, Buffer.alloc(0)));
  return seq(info, seq(oid(OID.ecdsaWithSha256)), bitString(sign('sha256', info, privateKey)));
}
