/** The agent's key pair and CSR. The private key is generated here and never leaves the agent. */
import { webcrypto } from 'node:crypto';
import { x509 } from '../certs/x509.js';
import { derToPem } from '../certs/pem.js';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface KeyAndCsr {
  keyPem: string;
  /** PKCS#10, DER */
  csrDer: Buffer;
}

export async function newKeyAndCsr(): Promise<KeyAndCsr> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  // The CA sets the identity from the token or the current SVID and ignores names in the CSR;
  // the CSR only proves possession of the new key.
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: ALG });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keyPem: derToPem(new Uint8Array(pkcs8), 'PRIVATE KEY'), csrDer: Buffer.from(csr.rawData) };
}
