/** Making the CA's own certificates: a self-signed root and the online intermediates it signs. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { P256_SPKI_PREFIX } from './csr.js';
import { caExtensions, name, randomSerial, signCertificate } from './template.js';
import type { Issuer } from './template.js';
import type { Window } from './rotation.js';

export interface NewCaCertificate {
  certDer: Buffer;
  key: KeyObject;
}

/** A fresh P-256 key pair with its SPKI and raw point (what certificates and key ids are built from). */
export function newP256Key(): { key: KeyObject; spkiDer: Buffer; point: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spkiDer = publicKey.export({ format: 'der', type: 'spki' });
  if (!spkiDer.subarray(0, P256_SPKI_PREFIX.length).equals(P256_SPKI_PREFIX)) throw new Error('unexpected P-256 public key encoding');
  return { key: privateKey, spkiDer, point: spkiDer.subarray(P256_SPKI_PREFIX.length) };
}

export function createRootCertificate(trustDomain: string, window: Window): NewCaCertificate {
  const { key, spkiDer, point } = newP256Key();
  const serial = randomSerial();
  // the serial prefix tells two roots of the same trust domain apart (in names, logs, chain building)
  const subjectDer = name({ o: 'Tollgate', cn: `Tollgate Root CA ${serial.toString('hex').slice(0, 8)} ${trustDomain}` });
  const certDer = signCertificate({ serial, ...window, subjectDer, spkiDer, extensions: caExtensions(trustDomain, point, 1) }, { subjectDer, key });
  return { certDer, key };
}

export function createIntermediateCertificate(trustDomain: string, window: Window, root: Issuer): NewCaCertificate {
  const { key, spkiDer, point } = newP256Key();
  const serial = randomSerial();
  const subjectDer = name({ o: 'Tollgate', cn: `Tollgate Intermediate CA ${serial.toString('hex').slice(0, 8)}` });
  const certDer = signCertificate({ serial, ...window, subjectDer, spkiDer, extensions: caExtensions(trustDomain, point, 0, root.keyId) }, root);
  return { certDer, key };
}
