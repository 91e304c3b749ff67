/** CSR checks: proof of possession, P-256 only, strict DER. Through the CA's public API (bootstrap). */
import { afterAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { TD, chainDer, closeAll, expectCaError, makeCsr, open, opensslCompressedCsr, opensslCsr, p256Keys } from './helpers.js';
import { verifyCsr } from '../../ca/csr.js';

afterAll(closeAll);

const ID = `spiffe://${TD}/agent/writer`;

async function withToken() {
  const ca = await open();
  return { ca, token: async () => (await ca.createJoinToken(ID)).token };
}

describe('CSR proof of possession', () => {
  it('a tampered signature -> bad_csr_signature', async () => {
    const { ca, token } = await withToken();
    const der = Buffer.from((await makeCsr()).der);
    der[der.length - 3] ^= 0x01;
    await expectCaError(ca.bootstrap(await token(), der), 'bad_csr_signature', /signed with the private key/);
  });

  it('a tampered request body (subject changed after signing) -> bad_csr_signature', async () => {
    const { ca, token } = await withToken();
    const der = Buffer.from((await makeCsr({ subject: 'CN=aaaaa' })).der);
    const at = der.indexOf(Buffer.from('aaaaa'));
    der[at] = 'b'.charCodeAt(0);
    await expectCaError(ca.bootstrap(await token(), der), 'bad_csr_signature');
  });

  it('a CSR carrying one key but signed with another -> bad_csr_signature', async () => {
    const { ca, token } = await withToken();
    const a = await p256Keys();
    const b = await p256Keys();
    const forged = await makeCsr({ keys: { publicKey: a.publicKey, privateKey: b.privateKey } });
    await expectCaError(ca.bootstrap(await token(), forged.der), 'bad_csr_signature');
  });
});

describe('CSR key type', () => {
  it.each([
    ['RSA', ['-newkey', 'rsa:2048'], /RSA/],
    ['P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], /P-384/],
    ['Ed25519', ['-newkey', 'ed25519'], /Ed25519/],
  ])('%s -> invalid_argument naming it', async (_name, args, named) => {
    const { ca, token } = await withToken();
    const e = await expectCaError(ca.bootstrap(await token(), opensslCsr(args)), 'invalid_argument', named);
    expect(e.message).toMatch(/only for EC P-256/);
  });

  it('openssl P-256 CSRs (SHA-256 and SHA-384 signatures) are accepted', async () => {
    const { ca, token } = await withToken();
    await expect(ca.bootstrap(await token(), opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']))).resolves.toMatchObject({ spiffeId: ID });
    await expect(ca.bootstrap(await token(), opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-sha384']))).resolves.toMatchObject({
      spiffeId: ID,
    });
  });
});

describe('CSR encoding', () => {
  it('refuses empty, truncated, trailing-garbage and non-DER input with invalid_argument', async () => {
    const good = (await makeCsr()).der;
    expect(verifyCsr(good).point).toHaveLength(65);
    for (const bad of [
      Buffer.alloc(0),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.from('-----BEGIN CERTIFICATE REQUEST-----'),
    ]) {
      await expectCaError(() => verifyCsr(bad), 'invalid_argument', /CSR/);
    }
  });

  it('a compressed-point P-256 key is accepted and certified in uncompressed form', async () => {
    const der = opensslCompressedCsr();
    const key = verifyCsr(der);
    expect(key.point).toHaveLength(65);
    expect(key.point[0]).toBe(4);
    const { ca, token } = await withToken();
    const svid = await ca.bootstrap(await token(), der);
    const leaf = new X509Certificate(chainDer(svid.certChainPem)[0]);
    expect(leaf.publicKey.export({ format: 'der', type: 'spki' }).equals(key.spkiDer)).toBe(true);
  });

  it('the certificate carries the CSR key as an uncompressed P-256 SubjectPublicKeyInfo', async () => {
    const csr = await makeCsr();
    const spki = Buffer.from(await crypto.subtle.exportKey('spki', csr.keys.publicKey));
    expect(verifyCsr(csr.der).spkiDer.equals(spki)).toBe(true);
  });
});
