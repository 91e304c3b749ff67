/**
 * validateSvid against certificates crafted here with the test PKI: real ECDSA keys and signatures, no mocks.
 * Every refusal asserts the stable CertError code and that the message names the problem.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { X509Certificate as NodeX509 } from 'node:crypto';
import { x509 } from '../../certs/x509.js';
import { CertError, type CertErrorCode } from '../../certs/errors.js';
import { validateSvid, TrustBundle, uriSanOf, normalizeSerial, type SvidUsage } from '../../certs/svid.js';
import { makeChain, makeRoot, makeIntermediate, makeLeaf, EKU_CLIENT, EKU_SERVER, type LeafOptions, type TestCert } from '../pki.js';

const TD = 'example.org';
const KU = x509.KeyUsageFlags;

let root: TestCert;
let inter: TestCert;

beforeAll(async () => {
  root = await makeRoot({ trustDomain: TD });
  inter = await makeIntermediate(root, { trustDomain: TD });
});

interface Check {
  chain: Uint8Array[];
  bundle?: Uint8Array[];
  usage?: SvidUsage;
  now?: number;
  skewMs?: number;
  trustDomain?: string;
}

function check(c: Check) {
  return validateSvid({
    chain: c.chain,
    bundle: c.bundle ?? [root.der],
    now: c.now ?? Date.now(),
    skewMs: c.skewMs,
    trustDomain: c.trustDomain ?? TD,
    usage: c.usage ?? 'client',
  });
}

/** A leaf under the shared intermediate, presented with that intermediate. */
async function leafChain(opts: LeafOptions = {}): Promise<Uint8Array[]> {
  const leaf = await makeLeaf(inter, opts);
  return [leaf.der, inter.der];
}

function refusal(fn: () => unknown): CertError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CertError);
    return e as CertError;
  }
  throw new Error('expected a CertError, but validation passed');
}

function expectRefused(fn: () => unknown, code: CertErrorCode, message: RegExp): CertError {
  const e = refusal(fn);
  expect({ code: e.code, message: e.message }).toEqual({ code, message: expect.stringMatching(message) });
  return e;
}

describe('validateSvid: good chains', () => {
  it('accepts a well-formed SVID for client and for server usage', async () => {
    const leaf = await makeLeaf(inter, { uris: ['spiffe://example.org/agent/writer'] });
    for (const usage of ['client', 'server'] as const) {
      const v = check({ chain: [leaf.der, inter.der], usage });
      expect(v.id).toEqual({ trustDomain: TD, path: '/agent/writer', uri: 'spiffe://example.org/agent/writer' });
      expect(v.serial).toBe(normalizeSerial(leaf.cert.serialNumber));
      expect(v.serial).toMatch(/^[0-9a-f]+$/);
      expect(v.notBefore).toBe(leaf.cert.notBefore.getTime());
      expect(v.notAfter).toBe(leaf.cert.notAfter.getTime());
    }
  });

  it('accepts a chain from makeChain and a prebuilt TrustBundle reused across calls', async () => {
    const c = await makeChain({ uris: ['spiffe://example.org/agent/a'] });
    const bundle = new TrustBundle([root.der, c.root.der]);
    const a = validateSvid({ chain: c.chainDer, bundle: [], now: Date.now(), trustDomain: TD, usage: 'server' }, bundle);
    const b = validateSvid({ chain: await leafChain(), bundle: [], now: Date.now(), trustDomain: TD, usage: 'client' }, bundle);
    expect(a.id.uri).toBe('spiffe://example.org/agent/a');
    expect(b.id.uri).toBe('spiffe://example.org/agent/test');
  });

  it('accepts a leaf signed directly by a bundle root, and a chain that also carries the root', async () => {
    const direct = await makeLeaf(root);
    expect(check({ chain: [direct.der] }).id.uri).toBe('spiffe://example.org/agent/test');
    const leaf = await makeLeaf(inter);
    expect(check({ chain: [leaf.der, inter.der, root.der] }).id.uri).toBe('spiffe://example.org/agent/test');
  });

  it('accepts a DNS and an IP SAN alongside the one URI SAN', async () => {
    const v = check({ chain: await leafChain({ dns: ['writer.example.org'], ips: ['127.0.0.1'] }) });
    expect(v.id.uri).toBe('spiffe://example.org/agent/test');
  });

  it('keeps the case of the path', async () => {
    expect(check({ chain: await leafChain({ uris: ['spiffe://example.org/Agent/Mixed'] }) }).id.uri).toBe('spiffe://example.org/Agent/Mixed');
  });

  it.each([
    ['spiffe://EXAMPLE.org/agent/a', /upper-case letters/],
    ['spiffe://Example.ORG/Agent/Mixed', /upper-case letters/],
    ['SPIFFE://example.org/agent/a', /in lower case/],
  ])('refuses the non-canonical URI SAN %s instead of folding it into another identity', async (uri, rule) => {
    const chain = await leafChain({ uris: [uri] });
    expectRefused(() => check({ chain }), 'svid_uri_san', rule);
  });
});

describe('validateSvid: subjectAltName', () => {
  it('refuses two URI SANs', async () => {
    const chain = await leafChain({ uris: ['spiffe://example.org/agent/a', 'spiffe://example.org/admin'] });
    expectRefused(() => check({ chain }), 'svid_uri_san', /2 URI SANs; an SVID has exactly one/);
  });

  it('refuses a SAN with no URI name', async () => {
    const chain = await leafChain({ uris: [], dns: ['writer.example.org'] });
    expectRefused(() => check({ chain }), 'svid_uri_san', /no URI SAN/);
  });

  it('refuses a certificate with no subjectAltName extension', async () => {
    const chain = await leafChain({ noSan: true });
    expectRefused(() => check({ chain }), 'svid_uri_san', /no subjectAltName/);
  });

  it('refuses a URI SAN that is not a SPIFFE ID, or a SPIFFE ID without a path', async () => {
    const https = await leafChain({ uris: ['https://example.org/agent/a'] });
    expectRefused(() => check({ chain: https }), 'svid_uri_san', /not a workload SPIFFE ID.*scheme must be "spiffe"/);
    const tdOnly = await leafChain({ uris: ['spiffe://example.org'] });
    expectRefused(() => check({ chain: tdOnly }), 'svid_uri_san', /not a workload SPIFFE ID.*needs a path/);
  });

  it('refuses a URI SAN crafted with ", URI:" inside it, which fools naive parsing of Node\'s subjectaltname', async () => {
    const crafted = 'spiffe://example.org/agent/a, URI:spiffe://example.org/admin';
    const leaf = await makeLeaf(inter, { uris: [crafted] });

    // The DER holds ONE URI SAN whose value is the whole crafted string.
    expect(uriSanOf(leaf.cert)).toBe(crafted);

    // Documentation of the hazard (CVE-2021-44532 class): Node's string form quotes and escapes the value,
    // but a naive regex over it still "finds" the admin ID as if it were a second URI SAN.
    const text = new NodeX509(leaf.der).subjectAltName ?? '';
    const naive = [...text.matchAll(/URI:([^\s,"]+)/g)].map((m) => m[1]);
    expect(naive).toContain('spiffe://example.org/admin');

    expectRefused(() => check({ chain: [leaf.der, inter.der] }), 'svid_uri_san', /URI SAN is not a workload SPIFFE ID.*path segment/);
  });
});

// GeneralNames hand-built in DER, for name types the PKI helper cannot produce.
function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const len = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  if (body.length > 0xff) throw new Error('test helper handles short values only');
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const ascii = (s: string) => Buffer.from(s, 'latin1');
/** otherName { type-id 1.2.3.4, value [0] EXPLICIT UTF8String } — a type @peculiar/x509 cannot decode. */
const otherName = tlv(0xa0, tlv(0x06, Buffer.from([0x2a, 0x03, 0x04])), tlv(0xa0, tlv(0x0c, ascii('opaque'))));
const uriName = (v: string) => tlv(0x86, ascii(v));
/** A subjectAltName extension holding exactly these DER bytes. */
const sanExtension = (der: Uint8Array) => new x509.Extension('2.5.29.17', false, new Uint8Array(der));
const rawSan = (...names: Uint8Array[]) => sanExtension(tlv(0x30, ...names));

describe('validateSvid: SAN name types the library does not decode', () => {
  it('accepts an otherName alongside the one URI SAN', async () => {
    const chain = await leafChain({ noSan: true, extraExtensions: [rawSan(otherName, uriName('spiffe://example.org/agent/other'))] });
    expect(check({ chain }).id.uri).toBe('spiffe://example.org/agent/other');
  });

  it('refuses a SAN holding only an otherName', async () => {
    const chain = await leafChain({ noSan: true, extraExtensions: [rawSan(otherName)] });
    expectRefused(() => check({ chain }), 'svid_uri_san', /no URI SAN/);
  });

  it('counts every URI SAN even next to names it cannot decode', async () => {
    const chain = await leafChain({
      noSan: true,
      extraExtensions: [rawSan(uriName('spiffe://example.org/agent/a'), otherName, uriName('spiffe://example.org/admin'))],
    });
    expectRefused(() => check({ chain }), 'svid_uri_san', /2 URI SANs/);
  });

  it('refuses a URI SAN with bytes outside printable ASCII', async () => {
    const chain = await leafChain({ noSan: true, extraExtensions: [rawSan(uriName('spiffe://example.org/agent/a\u0000'))] });
    expectRefused(() => check({ chain }), 'svid_uri_san', /outside printable ASCII/);
  });

  it('refuses a URI SAN holding a non-ASCII look-alike (KELVIN SIGN folds to "k" when lowercased)', async () => {
    const kelvin = Buffer.concat([ascii('spiffe://example.org/agent/'), Buffer.from('\u212a', 'utf8')]);
    const chain = await leafChain({ noSan: true, extraExtensions: [rawSan(tlv(0x86, kelvin))] });
    expectRefused(() => check({ chain }), 'svid_uri_san', /outside printable ASCII/);
  });

  it('fails closed with a CertError when the library cannot decode the SAN (truncated, unknown name tag)', async () => {
    const truncated = sanExtension(Buffer.from([0x30, 0x10, 0x86, 0x05, 0x61]));
    const unknownTag = rawSan(tlv(0x89, ascii('zz')), uriName('spiffe://example.org/agent/a'));
    for (const ext of [truncated, unknownTag]) {
      const chain = await leafChain({ noSan: true, extraExtensions: [ext] });
      expectRefused(() => check({ chain }), 'svid_parse', /leaf certificate has an extension that cannot be decoded/);
    }
  });

  it('refuses a SAN with trailing bytes after GeneralNames, which the library itself lets through', async () => {
    const der = Buffer.concat([tlv(0x30, uriName('spiffe://example.org/agent/a')), Buffer.from([0x86, 0x00])]);
    const chain = await leafChain({ noSan: true, extraExtensions: [sanExtension(der)] });
    expectRefused(() => check({ chain }), 'svid_uri_san', /subjectAltName extension is malformed: trailing bytes/);
  });

  it('refuses two subjectAltName extensions', async () => {
    const chain = await leafChain({ extraExtensions: [rawSan(uriName('spiffe://example.org/admin'))] });
    expectRefused(() => check({ chain }), 'svid_uri_san', /more than one subjectAltName extension/);
  });
});

describe('validateSvid: basicConstraints and keyUsage', () => {
  it('refuses a leaf with cA=true', async () => {
    const chain = await leafChain({ ca: true });
    expectRefused(() => check({ chain }), 'svid_basic_constraints', /leaf certificate is a CA \(basicConstraints cA=true\)/);
  });

  it('refuses keyCertSign on a leaf', async () => {
    const chain = await leafChain({ keyUsage: KU.digitalSignature | KU.keyCertSign });
    expectRefused(() => check({ chain }), 'svid_key_usage', /keyUsage has keyCertSign/);
  });

  it('refuses cRLSign on a leaf', async () => {
    const chain = await leafChain({ keyUsage: KU.digitalSignature | KU.cRLSign });
    expectRefused(() => check({ chain }), 'svid_key_usage', /keyUsage has cRLSign/);
  });

  it('refuses a leaf without keyUsage', async () => {
    const chain = await leafChain({ keyUsage: null });
    expectRefused(() => check({ chain }), 'svid_key_usage', /no keyUsage extension/);
  });

  it('refuses a leaf whose keyUsage lacks digitalSignature', async () => {
    const chain = await leafChain({ keyUsage: KU.keyEncipherment });
    expectRefused(() => check({ chain }), 'svid_key_usage', /lacks digitalSignature/);
  });
});

describe('validateSvid: extendedKeyUsage', () => {
  it('refuses a server-only leaf used as a client, and a client-only leaf used as a server', async () => {
    const serverOnly = await leafChain({ eku: [EKU_SERVER] });
    expectRefused(() => check({ chain: serverOnly, usage: 'client' }), 'svid_ext_key_usage', /lacks clientAuth/);
    expect(check({ chain: serverOnly, usage: 'server' }).id.uri).toBe('spiffe://example.org/agent/test');

    const clientOnly = await leafChain({ eku: [EKU_CLIENT] });
    expectRefused(() => check({ chain: clientOnly, usage: 'server' }), 'svid_ext_key_usage', /lacks serverAuth/);
    expect(check({ chain: clientOnly, usage: 'client' }).id.uri).toBe('spiffe://example.org/agent/test');
  });

  it('refuses a leaf without extendedKeyUsage', async () => {
    const chain = await leafChain({ eku: null });
    expectRefused(() => check({ chain }), 'svid_ext_key_usage', /no extendedKeyUsage; clientAuth is required/);
  });
});

describe('validateSvid: validity window', () => {
  it('refuses an expired leaf', async () => {
    const now = Date.now();
    const chain = await leafChain({ notBefore: new Date(now - 7_200_000), notAfter: new Date(now - 60_000) });
    expectRefused(() => check({ chain, now }), 'svid_expired', /leaf certificate expired at/);
  });

  it('refuses a leaf that is not yet valid', async () => {
    const now = Date.now();
    const chain = await leafChain({ notBefore: new Date(now + 300_000), notAfter: new Date(now + 3_600_000) });
    expectRefused(() => check({ chain, now }), 'svid_not_yet_valid', /leaf certificate is not valid until/);
  });

  it('allows clock skew: 10 s in the future is accepted with the default skew, refused with none', async () => {
    const now = Date.now();
    const chain = await leafChain({ notBefore: new Date(now + 10_000), notAfter: new Date(now + 3_600_000) });
    expect(check({ chain, now }).id.uri).toBe('spiffe://example.org/agent/test');
    expectRefused(() => check({ chain, now, skewMs: 0 }), 'svid_not_yet_valid', /not valid until/);
  });

  it('allows clock skew at expiry too: 10 s past notAfter is accepted, 60 s is not', async () => {
    const leaf = await makeLeaf(inter);
    const end = leaf.cert.notAfter.getTime();
    expect(check({ chain: [leaf.der, inter.der], now: end + 10_000 }).id.path).toBe('/agent/test');
    expectRefused(() => check({ chain: [leaf.der, inter.der], now: end + 60_000 }), 'svid_expired', /leaf certificate expired/);
  });
});

describe('validateSvid: trust domain', () => {
  it('refuses a leaf from another trust domain, even when it chains to the bundle', async () => {
    const chain = await leafChain({ uris: ['spiffe://other.org/agent/a'] });
    expectRefused(() => check({ chain }), 'svid_trust_domain', /spiffe:\/\/other\.org\/agent\/a is not in trust domain example\.org/);
  });
});

describe('validateSvid: chain', () => {
  it('refuses a chain signed by another CA with the same subject names but a different key', async () => {
    // The rogue PKI copies every name of the real one; without authorityKeyIdentifier only the signature differs.
    const rogueRoot = await makeRoot({ trustDomain: TD });
    expect(rogueRoot.cert.subject).toBe(root.cert.subject);
    const rogueInter = await makeIntermediate(rogueRoot, { authorityKeyId: false });
    expect(rogueInter.cert.subject).toBe(inter.cert.subject);
    const leaf = await makeLeaf(rogueInter, { authorityKeyId: false });

    expectRefused(() => check({ chain: [leaf.der, rogueInter.der] }), 'svid_chain', /intermediate CA certificate does not chain to the trust bundle/);
    // The rogue leaf presented with the REAL intermediate: same issuer name, wrong signature.
    expectRefused(() => check({ chain: [leaf.der, inter.der] }), 'svid_chain', /leaf certificate does not chain to the trust bundle/);
    // Sanity: the same rogue chain is accepted when its own root is trusted, so the refusals above are the key.
    expect(check({ chain: [leaf.der, rogueInter.der], bundle: [rogueRoot.der] }).id.path).toBe('/agent/test');
  });

  it('refuses an intermediate that is not a CA', async () => {
    const notCa = await makeIntermediate(root, { ca: false });
    const leaf = await makeLeaf(notCa);
    expectRefused(() => check({ chain: [leaf.der, notCa.der] }), 'svid_chain', /intermediate CA certificate is not a CA/);
  });

  it('refuses an expired intermediate', async () => {
    const now = Date.now();
    const old = await makeIntermediate(root, { notBefore: new Date(now - 7_200_000), notAfter: new Date(now - 120_000) });
    const leaf = await makeLeaf(old);
    expectRefused(() => check({ chain: [leaf.der, old.der], now }), 'svid_expired', /intermediate CA certificate expired at/);
  });

  it('refuses a leaf presented without its intermediate', async () => {
    const leaf = await makeLeaf(inter);
    expectRefused(() => check({ chain: [leaf.der] }), 'svid_chain', /leaf certificate does not chain to the trust bundle.*missing intermediate/);
  });

  it("refuses a chain deeper than an issuer's pathLenConstraint", async () => {
    const upper = await makeIntermediate(root, { name: 'Upper Intermediate', pathLength: 0 });
    const lower = await makeIntermediate(upper, { name: 'Lower Intermediate' });
    const leaf = await makeLeaf(lower);
    expectRefused(() => check({ chain: [leaf.der, lower.der, upper.der] }), 'svid_chain', /pathLenConstraint/);
    // With room for one CA below it (and a root without a limit), the same shape is fine.
    const openRoot = await makeRoot({ trustDomain: TD, name: 'Open Root', pathLength: null });
    const roomy = await makeIntermediate(openRoot, { name: 'Roomy Intermediate', pathLength: 1 });
    const lower2 = await makeIntermediate(roomy, { name: 'Lower Intermediate 2' });
    const leaf2 = await makeLeaf(lower2);
    expect(check({ chain: [leaf2.der, lower2.der, roomy.der], bundle: [openRoot.der] }).id.path).toBe('/agent/test');
    // The default test root allows one CA below it: two intermediates under it are refused at the root.
    const mid = await makeIntermediate(root, { name: 'Mid Intermediate', pathLength: 1 });
    const low = await makeIntermediate(mid, { name: 'Low Intermediate' });
    const leaf3 = await makeLeaf(low);
    expectRefused(
      () => check({ chain: [leaf3.der, low.der, mid.der] }),
      'svid_chain',
      /trust bundle root allows 1 CA certificate\(s\) below it \(pathLenConstraint\) but the chain has 2/,
    );
  });

  it('refuses a leaf when the bundle holds only an unrelated root', async () => {
    const other = await makeRoot({ trustDomain: TD, name: 'Other Root' });
    const chain = await leafChain();
    expectRefused(() => check({ chain, bundle: [other.der] }), 'svid_chain', /does not chain to the trust bundle/);
  });
});

describe('validateSvid: parsing', () => {
  it('refuses garbage DER as svid_parse naming the certificate', async () => {
    const garbage = Buffer.from('this is not a certificate');
    expectRefused(() => check({ chain: [garbage] }), 'svid_parse', /leaf certificate is not a valid DER X\.509 certificate/);
    const leaf = await makeLeaf(inter);
    expectRefused(() => check({ chain: [leaf.der, garbage] }), 'svid_parse', /chain certificate #2 is not a valid DER/);
    expectRefused(() => check({ chain: [leaf.der, inter.der], bundle: [garbage] }), 'svid_parse', /trust bundle certificate #1 is not a valid DER/);
  });

  it('refuses a truncated certificate and an empty chain', async () => {
    const leaf = await makeLeaf(inter);
    expectRefused(() => check({ chain: [leaf.der.subarray(0, leaf.der.length - 10)] }), 'svid_parse', /not a valid DER/);
    expectRefused(() => check({ chain: [] }), 'svid_parse', /no certificate was presented/);
  });
});
