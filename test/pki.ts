/**
 * Test PKI made by code (never committed keys): roots, intermediates and leaves with every knob a
 * crafted-bad-certificate test needs. Real ECDSA P-256 via WebCrypto + @peculiar/x509.
 */
import { webcrypto, randomBytes } from 'node:crypto';
import { x509 } from '../certs/x509.js';

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Every certificate these helpers made in this process, with its issuer (null for a root): the differential test's corpus. */
export const crafted: { kind: 'root' | 'intermediate' | 'leaf'; cert: TestCert; issuer: TestCert | null }[] = [];

export interface TestCert {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  der: Buffer;
  pem: string;
  keyPem: string;
}

async function finish(cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<TestCert> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const b64 = Buffer.from(pkcs8)
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return {
    cert,
    keys,
    der: Buffer.from(cert.rawData),
    pem: cert.toString('pem') + '\n',
    keyPem: `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`,
  };
}

export function newKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
}

const serial = () => '01' + randomBytes(15).toString('hex');
const HOUR = 3_600_000;

export async function makeRoot(
  opts: { trustDomain?: string; notBefore?: Date; notAfter?: Date; name?: string; /** default 1; null omits it */ pathLength?: number | null } = {},
): Promise<TestCert> {
  const keys = await newKeys();
  const td = opts.trustDomain ?? 'example.org';
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.name ?? 'Test Root'}`,
    notBefore: opts.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: opts.notAfter ?? new Date(Date.now() + 24 * HOUR),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, opts.pathLength === undefined ? 1 : (opts.pathLength ?? undefined), true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${td}` }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const out = await finish(cert, keys);
  crafted.push({ kind: 'root', cert: out, issuer: null });
  return out;
}

export interface IntermediateOptions {
  trustDomain?: string;
  ca?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  /** subject CN; default "Test Intermediate" */
  name?: string;
  /** basicConstraints pathLenConstraint; default 0, null omits it (always omitted when ca is false) */
  pathLength?: number | null;
  /** false omits the authorityKeyIdentifier, so only the signature ties the certificate to its issuer */
  authorityKeyId?: boolean;
}

export async function makeIntermediate(issuer: TestCert, opts: IntermediateOptions = {}): Promise<TestCert> {
  const keys = await newKeys();
  const td = opts.trustDomain ?? 'example.org';
  const ca = opts.ca ?? true;
  const pathLength = ca ? (opts.pathLength === undefined ? 0 : (opts.pathLength ?? undefined)) : undefined;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(ca, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${td}` }]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (opts.authorityKeyId !== false) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.name ?? 'Test Intermediate'}`,
    issuer: issuer.cert.subject,
    notBefore: opts.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: opts.notAfter ?? new Date(Date.now() + 12 * HOUR),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: alg,
    extensions,
  });
  const out = await finish(cert, keys);
  crafted.push({ kind: 'intermediate', cert: out, issuer });
  return out;
}

export interface LeafOptions {
  /** URI SANs; default one: spiffe://example.org/agent/test */
  uris?: string[];
  dns?: string[];
  ips?: string[];
  ca?: boolean;
  keyUsage?: number | null;
  /** EKU OIDs; null omits the extension */
  eku?: string[] | null;
  notBefore?: Date;
  notAfter?: Date;
  /** raw extra extensions (e.g. a hand-built SAN) */
  extraExtensions?: x509.Extension[];
  /** omit the standard SAN extension entirely */
  noSan?: boolean;
  keys?: CryptoKeyPair;
  /** false omits the authorityKeyIdentifier, so only the signature ties the leaf to its issuer */
  authorityKeyId?: boolean;
}

export const EKU_SERVER = '1.3.6.1.5.5.7.3.1';
export const EKU_CLIENT = '1.3.6.1.5.5.7.3.2';

export async function makeLeaf(issuer: TestCert, opts: LeafOptions = {}): Promise<TestCert> {
  const keys = opts.keys ?? (await newKeys());
  const names: x509.JsonGeneralName[] = [
    ...(opts.uris ?? ['spiffe://example.org/agent/test']).map((value) => ({ type: 'url' as const, value })),
    ...(opts.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const exts: x509.Extension[] = [new x509.BasicConstraintsExtension(opts.ca ?? false, undefined, true)];
  const ku = opts.keyUsage === undefined ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment : opts.keyUsage;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- KeyUsageFlags is a bit-flag enum: the extension takes flags OR-ed together, which TypeScript types as number
  if (ku !== null) exts.push(new x509.KeyUsagesExtension(ku, true));
  const eku = opts.eku === undefined ? [EKU_SERVER, EKU_CLIENT] : opts.eku;
  if (eku !== null) exts.push(new x509.ExtendedKeyUsageExtension(eku, false));
  if (!opts.noSan) exts.push(new x509.SubjectAlternativeNameExtension(names, false));
  exts.push(...(opts.extraExtensions ?? []));
  if (opts.authorityKeyId !== false) exts.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=test leaf',
    issuer: issuer.cert.subject,
    notBefore: opts.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: opts.notAfter ?? new Date(Date.now() + HOUR),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: alg,
    extensions: exts,
  });
  const out = await finish(cert, keys);
  crafted.push({ kind: 'leaf', cert: out, issuer });
  return out;
}

/** root -> intermediate -> leaf in one call; `chainPem` is leaf + intermediate (what a workload presents). */
export async function makeChain(leafOpts: LeafOptions = {}, trustDomain = 'example.org') {
  const root = await makeRoot({ trustDomain });
  const inter = await makeIntermediate(root, { trustDomain });
  const leaf = await makeLeaf(inter, leafOpts);
  return { root, inter, leaf, chainPem: leaf.pem + inter.pem, chainDer: [leaf.der, inter.der] };
}
