import { webcrypto, randomBytes } from 'node:crypto';
import { x509 } from '../../certs/x509.js';

/**
 * A throwaway PKI for benchmarks: root -> intermediate -> leaves (ECDSA P-256), SPIFFE URI SANs plus a CN
 * (stock nginx can only match a client by subject DN). Same shapes the CA issues; never persisted beyond a
 * temp dir.
 */
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const HOUR = 3_600_000;

export interface BenchCert {
  keyPem: string;
  certPem: string;
  /** leaf + intermediate */
  chainPem: string;
  notBefore: number;
  notAfter: number;
}

async function keyPem(keys: CryptoKeyPair): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8)
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END PRIVATE KEY-----\n`;
}

const newKeys = () => webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
const serial = () => '01' + randomBytes(15).toString('hex');

export async function makeBenchPki(trustDomain: string) {
  const rootKeys = await newKeys();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=Bench Root',
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + 24 * HOUR),
    keys: rootKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const interKeys = await newKeys();
  const inter = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=Bench Intermediate',
    issuer: root.subject,
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + 12 * HOUR),
    publicKey: interKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(interKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const interPem = inter.toString('pem') + '\n';
  async function leaf(cn: string, path: string, dns: string[] = [], ips: string[] = []): Promise<BenchCert> {
    const keys = await newKeys();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${cn}`,
      issuer: inter.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 2 * HOUR),
      publicKey: keys.publicKey,
      signingKey: interKeys.privateKey,
      signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], false),
        new x509.SubjectAlternativeNameExtension([
          { type: 'url', value: `spiffe://${trustDomain}${path}` },
          ...dns.map((value) => ({ type: 'dns' as const, value })),
          ...ips.map((value) => ({ type: 'ip' as const, value })),
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(interKeys.publicKey),
      ],
    });
    const certPem = cert.toString('pem') + '\n';
    return { keyPem: await keyPem(keys), certPem, chainPem: certPem + interPem, notBefore: cert.notBefore.getTime(), notAfter: cert.notAfter.getTime() };
  }
  return { rootPem: root.toString('pem') + '\n', interPem, leaf };
}
