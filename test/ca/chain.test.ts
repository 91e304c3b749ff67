/**
 * What the CA issues, checked by independent parsers and verifiers: openssl, Node's X509Certificate,
 * @peculiar/x509 and the project's own validateSvid.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { x509 } from '../../certs/x509.js';
import { validateSvid, normalizeSerial } from '../../certs/svid.js';
import { fingerprint } from '../../certs/pem.js';
import { TD, chainDer, closeAll, makeCsr, open, opensslCsr, parseCert, tempDir } from './helpers.js';

afterAll(closeAll);

function opensslVerify(bundlePem: string, chainPem: string, purpose?: string): { status: number | null; out: string } {
  const dir = tempDir('tollgate-verify-');
  const [leaf, ...rest] = chainPem.split(/(?=-----BEGIN CERTIFICATE-----)/);
  fs.writeFileSync(path.join(dir, 'bundle.pem'), bundlePem);
  fs.writeFileSync(path.join(dir, 'leaf.pem'), leaf);
  fs.writeFileSync(path.join(dir, 'intermediate.pem'), rest.join(''));
  const args = ['verify', '-x509_strict', '-CAfile', 'bundle.pem', '-untrusted', 'intermediate.pem'];
  if (purpose) args.push('-purpose', purpose);
  const r = spawnSync('openssl', [...args, 'leaf.pem'], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('issued SVIDs', () => {
  it('openssl verify accepts the chain (strict, as client and as server)', async () => {
    const ca = await open();
    const { token } = await ca.createJoinToken(`spiffe://${TD}/agent/writer`);
    const svid = await ca.bootstrap(token, (await makeCsr()).der);
    for (const purpose of [undefined, 'sslclient', 'sslserver']) {
      const r = opensslVerify(svid.bundlePem, svid.certChainPem, purpose);
      expect(r.out).toContain('leaf.pem: OK');
      expect(r.status).toBe(0);
    }
    // and it is refused against another CA's bundle
    const other = await open();
    const bad = opensslVerify(other.bundlePem(), svid.certChainPem);
    expect(bad.status).not.toBe(0);
  });

  it('validateSvid accepts the chain for client and server usage', async () => {
    const ca = await open();
    const { token } = await ca.createJoinToken(`spiffe://${TD}/agent/writer`);
    const svid = await ca.bootstrap(token, (await makeCsr()).der);
    for (const usage of ['client', 'server'] as const) {
      const v = validateSvid({ chain: chainDer(svid.certChainPem), bundle: ca.bundleDer(), now: Date.now(), trustDomain: TD, usage });
      expect(v.id.uri).toBe(`spiffe://${TD}/agent/writer`);
      expect(v.serial).toBe(svid.serial);
      expect(v.notAfter).toBe(svid.notAfter);
      expect(v.notBefore).toBe(svid.notBefore);
    }
  });

  it('leaf carries exactly the SVID profile', async () => {
    const ca = await open();
    const before = Date.now();
    const { token } = await ca.createJoinToken(`spiffe://${TD}/agent/writer`);
    const csr = await makeCsr();
    const svid = await ca.bootstrap(token, csr.der);
    const [leafDer, interDer, ...more] = chainDer(svid.certChainPem);
    expect(more).toHaveLength(0);
    const leaf = parseCert(leafDer);
    const inter = parseCert(interDer);

    // key: the CSR's
    const csrSpki = Buffer.from(await crypto.subtle.exportKey('spki', csr.keys.publicKey));
    expect(Buffer.from(leaf.publicKey.rawData).equals(csrSpki)).toBe(true);

    const bc = leaf.getExtension(x509.BasicConstraintsExtension)!;
    expect(bc.ca).toBe(false);
    expect(bc.critical).toBe(true);
    const ku = leaf.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension)!;
    expect(eku.usages.map(String).sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.names.items.map((n) => [n.type, n.value])).toEqual([['url', `spiffe://${TD}/agent/writer`]]);

    const ski = leaf.getExtension(x509.SubjectKeyIdentifierExtension)!;
    const expectedSki = await x509.SubjectKeyIdentifierExtension.create(csr.keys.publicKey);
    expect(ski.keyId).toBe(expectedSki.keyId);
    const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)!;
    expect(aki.keyId).toBe(inter.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId);

    // serial: 128-bit random, positive, non-zero, normalized like certs/svid
    expect(svid.serial).toBe(normalizeSerial(leaf.serialNumber));
    expect(svid.serial).toMatch(/^[0-9a-f]{1,32}$/);
    expect(BigInt('0x' + svid.serial) > 0n).toBe(true);
    const node = new X509Certificate(leafDer);
    expect(normalizeSerial(node.serialNumber)).toBe(svid.serial);

    // validity: backdated one minute, 1 h by default
    expect(svid.notBefore).toBeLessThanOrEqual(before - 59_000);
    expect(svid.notBefore).toBeGreaterThanOrEqual(before - 62_000);
    expect(svid.notAfter - before).toBeGreaterThan(3_590_000);
    expect(svid.notAfter - before).toBeLessThanOrEqual(3_600_000 + 1_000);
    expect(leaf.notAfter.getTime()).toBe(svid.notAfter);

    // the intermediate is a CA for the trust domain, signed by the bundle root
    const ibc = inter.getExtension(x509.BasicConstraintsExtension)!;
    expect(ibc.ca).toBe(true);
    expect(ibc.pathLength).toBe(0);
    expect(inter.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    const root = new X509Certificate(ca.bundleDer()[0]);
    expect(new X509Certificate(interDer).verify(root.publicKey)).toBe(true);
    expect(root.subjectAltName).toBe(`URI:spiffe://${TD}`);
    expect(ca.rootFingerprint()).toBe(fingerprint(ca.bundleDer()[0]));
    expect(ca.bundlePem()).toBe(svid.bundlePem);
  });

  it('accepts CSRs made by openssl, and serials differ between certificates', async () => {
    const ca = await open();
    const serials = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const { token } = await ca.createJoinToken(`spiffe://${TD}/agent/a${i}`);
      const csr = i === 0 ? opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']) : (await makeCsr()).der;
      const svid = await ca.bootstrap(token, csr);
      serials.add(svid.serial);
      expect(opensslVerify(svid.bundlePem, svid.certChainPem).status).toBe(0);
    }
    expect(serials.size).toBe(5);
  });
});

describe('gateway credentials', () => {
  it('carry the URI, DNS and IP SANs and a matching key; openssl verifies hostnames and IPs', async () => {
    const ca = await open();
    const id = `spiffe://${TD}/gateway`;
    const gw = await ca.issueGatewayCredentials(id, ['localhost', 'gw.example.com', '127.0.0.1', '::1']);
    expect(gw.spiffeId).toBe(id);
    const [leafDer] = chainDer(gw.certChainPem);
    const leaf = parseCert(leafDer);
    const names = leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => `${n.type}:${n.value}`);
    expect(names).toEqual([`url:${id}`, 'dns:localhost', 'dns:gw.example.com', 'ip:127.0.0.1', 'ip:::1']);

    const node = new X509Certificate(leafDer);
    expect(node.checkHost('gw.example.com')).toBe('gw.example.com');
    expect(node.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(node.checkHost('other.example.com')).toBeUndefined();
    expect(node.checkPrivateKey(createPrivateKey(gw.keyPem))).toBe(true);
    expect(createPublicKey(gw.keyPem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    const dir = tempDir('tollgate-gw-');
    fs.writeFileSync(path.join(dir, 'bundle.pem'), gw.bundlePem);
    const [leafPem, interPem] = gw.certChainPem.split(/(?=-----BEGIN CERTIFICATE-----)/);
    fs.writeFileSync(path.join(dir, 'leaf.pem'), leafPem);
    fs.writeFileSync(path.join(dir, 'inter.pem'), interPem);
    const verify = (extra: string[]) =>
      spawnSync('openssl', ['verify', '-CAfile', 'bundle.pem', '-untrusted', 'inter.pem', '-purpose', 'sslserver', ...extra, 'leaf.pem'], {
        cwd: dir,
        encoding: 'utf8',
      });
    expect(verify(['-verify_hostname', 'gw.example.com']).status).toBe(0);
    expect(verify(['-verify_ip', '127.0.0.1']).status).toBe(0);
    expect(verify(['-verify_ip', '::1']).status).toBe(0);
    expect(verify(['-verify_hostname', 'evil.example.com']).status).not.toBe(0);

    const v = validateSvid({ chain: chainDer(gw.certChainPem), bundle: ca.bundleDer(), now: Date.now(), trustDomain: TD, usage: 'server' });
    expect(v.id.uri).toBe(id);
    expect((await ca.listIssued({ spiffeId: id })).map((r) => r.serial)).toEqual([v.serial]);
  });

  it('refuses bad server names and foreign identities', async () => {
    const ca = await open();
    await expect(ca.issueGatewayCredentials(`spiffe://${TD}/gateway`, ['bad name'])).rejects.toMatchObject({ code: 'invalid_argument', message: /bad name/ });
    await expect(ca.issueGatewayCredentials('spiffe://other.org/gateway', ['localhost'])).rejects.toMatchObject({
      code: 'invalid_argument',
      message: /other\.org/,
    });
  });
});
