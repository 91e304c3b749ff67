/**
 * Differential test: certs/svid.ts (own strict DER reader + node:crypto) against @peculiar/x509, which the
 * runtime no longer imports and which stays here as a cross-check only.
 *
 * Corpus: every certificate test/pki.ts crafts in this file (the shapes svid.test.ts uses: good and bad
 * leaves, intermediates, roots, hand-built SANs), then a seeded fuzz of mutated certificates. Mutants are
 * re-signed by the real issuer key, so a mutation is judged on its content, not stopped by the signature.
 *
 * Two levels, for every certificate:
 *  - fields: parseCertificate (new) vs @peculiar/x509 (URI SANs, cA, pathLen, keyUsage, EKU, validity, serial,
 *    extension OIDs and critical flags). If the new reader accepts a certificate, the library must accept it
 *    too and extract the same fields; the new reader may refuse what the library lets through.
 *  - validation: validateSvid (new) vs the old @peculiar/x509-based validateSvid (svid-reference.ts). Accepted
 *    by the new one means accepted by the old one with the same result. The new one may refuse where the old
 *    one accepted only for a DER strictness reason (svid_parse, or a malformed SAN).
 *
 * FUZZ_SEED=<n> replays a run (the seed is printed); FUZZ_N=<n> changes the number of mutants (default 3000).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { createPrivateKey, sign } from 'node:crypto';
import { x509 } from '../../certs/x509.js';
import { CertError } from '../../certs/errors.js';
import { parseCertificate, OID_SUBJECT_ALT_NAME, type CertificateFields } from '../../certs/certificate.js';
import { children, readTlv, type Tlv } from '../../certs/der.js';
import { validateSvid, normalizeSerial, TrustBundle } from '../../certs/svid.js';
import * as reference from './svid-reference.js';
import { crafted, makeRoot, makeIntermediate, makeLeaf, EKU_CLIENT, EKU_SERVER, type LeafOptions, type TestCert } from '../pki.js';

const TD = 'example.org';
const KU = x509.KeyUsageFlags;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
const N = process.env.FUZZ_N ? Number(process.env.FUZZ_N) : 3000;

// ------------------------------------------------------------------ field extraction, both ways

interface Fields {
  serial: string;
  notBefore: number;
  notAfter: number;
  extensions: [string, boolean][];
  ca: boolean | null;
  pathLen: number | null;
  keyUsage: number | null;
  eku: string[] | null;
  /** URI names of each SAN extension */
  uris: string[][];
}

/** URI names in a SAN value as the library reads them: the GeneralNames SEQUENCE at offset 0, bytes as latin1. */
function urisOf(value: Uint8Array): string[] {
  const seq = readTlv(value, 0);
  return children(value, seq)
    .filter((t: Tlv) => t.tag === 0x86)
    .map((t) => Buffer.from(value.subarray(t.contentStart, t.end)).toString('latin1'));
}

function fromNew(f: CertificateFields): Fields {
  return {
    serial: normalizeSerial(f.serialHex),
    notBefore: f.notBefore,
    notAfter: f.notAfter,
    extensions: f.extensions.map((e) => [e.oid, e.critical]),
    ca: f.basicConstraints?.ca ?? null,
    pathLen: f.basicConstraints?.pathLen ?? null,
    keyUsage: f.keyUsage,
    eku: f.extKeyUsage,
    uris: f.subjectAltNames.map(urisOf),
  };
}

function fromLibrary(der: Uint8Array): Fields {
  const c = new x509.X509Certificate(new Uint8Array(der));
  const exts = c.extensions;
  const bc = c.getExtension(x509.BasicConstraintsExtension);
  const ku = c.getExtension(x509.KeyUsagesExtension);
  const eku = c.getExtension(x509.ExtendedKeyUsageExtension);
  return {
    serial: normalizeSerial(c.serialNumber),
    notBefore: c.notBefore.getTime(),
    notAfter: c.notAfter.getTime(),
    extensions: exts.map((e) => [e.type, e.critical]),
    ca: bc ? bc.ca : null,
    pathLen: bc?.pathLength ?? null,
    keyUsage: ku ? ku.usages : null,
    eku: eku ? eku.usages.map(String) : null,
    uris: exts
      .filter((e) => e.type === OID_SUBJECT_ALT_NAME)
      .map((e) =>
        (e as x509.SubjectAlternativeNameExtension).names.items.filter((n) => n.type === 'url').map((n) => Buffer.from(n.value, 'latin1').toString('latin1')),
      ),
  };
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };
function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

// ------------------------------------------------------------------ the comparison

interface Tally {
  fieldsBothAccept: number;
  fieldsBothRefuse: number;
  fieldsNewStricter: number;
  validBothAccept: number;
  validBothRefuse: number;
  validNewStricter: number;
  codes: Map<string, number>;
  /** why the new reader refused what the library read */
  stricter: Map<string, number>;
}
const newTally = (): Tally => ({
  fieldsBothAccept: 0,
  fieldsBothRefuse: 0,
  fieldsNewStricter: 0,
  validBothAccept: 0,
  validBothRefuse: 0,
  validNewStricter: 0,
  codes: new Map(),
  stricter: new Map(),
});
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
const summary = (t: Tally) =>
  JSON.stringify({ ...t, codes: Object.fromEntries(t.codes), stricter: Object.fromEntries([...t.stricter].sort((a, b) => b[1] - a[1])) });

/** The allowed reasons for the new validator to refuse what the old one accepted: DER strictness. */
function strictnessRefusal(e: unknown): boolean {
  return e instanceof CertError && (e.code === 'svid_parse' || (e.code === 'svid_uri_san' && /malformed/.test(e.message)));
}

function compareFields(der: Uint8Array, tally: Tally, label: string): void {
  const mine = attempt(() => fromNew(parseCertificate(der)));
  const lib = attempt(() => fromLibrary(der));
  if (mine.ok) {
    if (!lib.ok)
      throw new Error(`${label}: the new reader accepts a certificate @peculiar/x509 refuses (${String(lib.error)}): ${Buffer.from(der).toString('base64')}`);
    expect(mine.value, `${label}: ${Buffer.from(der).toString('base64')}`).toEqual(lib.value);
    tally.fieldsBothAccept++;
  } else if (lib.ok) {
    tally.fieldsNewStricter++;
    bump(tally.stricter, (mine.error as Error).message.replace(/extension [0-9.]+/, 'extension').replace(/0x[0-9a-f]+|"[^"]*"|\d+/g, '#'));
  } else {
    tally.fieldsBothRefuse++;
  }
}

interface Case {
  chain: Uint8Array[];
  bundle: Uint8Array[];
  usage: 'client' | 'server';
  now: number;
}

function compareValidation(c: Case, tally: Tally, label: string): void {
  const opts = { chain: c.chain, bundle: c.bundle, now: c.now, trustDomain: TD, usage: c.usage };
  const mine = attempt(() => validateSvid(opts, new TrustBundle(c.bundle)));
  const old = attempt(() => reference.validateSvid(opts));
  const b64 = () => c.chain.map((d) => Buffer.from(d).toString('base64')).join(' ');
  if (mine.ok) {
    if (!old.ok) throw new Error(`${label}: the new validator accepts a chain the old one refuses (${String(old.error)}): ${b64()}`);
    expect(mine.value, label).toEqual(old.value);
    tally.validBothAccept++;
    return;
  }
  if (!(mine.error instanceof CertError)) throw new Error(`${label}: the new validator threw a non-CertError: ${String(mine.error)}: ${b64()}`);
  if (old.ok) {
    if (!strictnessRefusal(mine.error))
      throw new Error(`${label}: the new validator refuses (${mine.error.code}: ${mine.error.message}) a chain the old one accepts: ${b64()}`);
    tally.validNewStricter++;
  } else {
    tally.validBothRefuse++;
  }
  bump(tally.codes, `${old.ok ? 'accepted' : (old.error as CertError).code} -> ${mine.error.code}`);
}

// ------------------------------------------------------------------ corpus

let root: TestCert;
let inter: TestCert;

// GeneralNames hand-built in DER (as in svid.test.ts)
function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const len = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const ascii = (s: string) => Buffer.from(s, 'latin1');
const otherName = tlv(0xa0, tlv(0x06, Buffer.from([0x2a, 0x03, 0x04])), tlv(0xa0, tlv(0x0c, ascii('opaque'))));
const uriName = (v: string) => tlv(0x86, ascii(v));
const sanExtension = (der: Uint8Array) => new x509.Extension('2.5.29.17', false, new Uint8Array(der));
const rawSan = (...names: Uint8Array[]) => sanExtension(tlv(0x30, ...names));

const now = Date.now();
const LEAF_SHAPES: LeafOptions[] = [
  {},
  { uris: ['spiffe://example.org/agent/writer'] },
  { uris: ['spiffe://example.org/Agent/Mixed'] },
  { uris: ['spiffe://EXAMPLE.org/agent/a'] },
  { uris: ['SPIFFE://example.org/agent/a'] },
  { uris: ['spiffe://example.org/agent/a', 'spiffe://example.org/admin'] },
  { uris: [], dns: ['writer.example.org'] },
  { noSan: true },
  { uris: ['https://example.org/agent/a'] },
  { uris: ['spiffe://example.org'] },
  { uris: ['spiffe://example.org/agent/a, URI:spiffe://example.org/admin'] },
  { dns: ['writer.example.org'], ips: ['127.0.0.1', '::1'] },
  { uris: ['spiffe://other.org/agent/a'] },
  { noSan: true, extraExtensions: [rawSan(otherName, uriName('spiffe://example.org/agent/other'))] },
  { noSan: true, extraExtensions: [rawSan(otherName)] },
  { noSan: true, extraExtensions: [rawSan(uriName('spiffe://example.org/agent/a'), otherName, uriName('spiffe://example.org/admin'))] },
  { noSan: true, extraExtensions: [rawSan(uriName('spiffe://example.org/agent/a\u0000'))] },
  { noSan: true, extraExtensions: [rawSan(tlv(0x86, Buffer.concat([ascii('spiffe://example.org/agent/'), Buffer.from('\u212a', 'utf8')])))] },
  { noSan: true, extraExtensions: [sanExtension(Buffer.from([0x30, 0x10, 0x86, 0x05, 0x61]))] },
  { noSan: true, extraExtensions: [rawSan(tlv(0x89, ascii('zz')), uriName('spiffe://example.org/agent/a'))] },
  { noSan: true, extraExtensions: [sanExtension(Buffer.concat([tlv(0x30, uriName('spiffe://example.org/agent/a')), Buffer.from([0x86, 0x00])]))] },
  { extraExtensions: [rawSan(uriName('spiffe://example.org/admin'))] },
  { ca: true },
  { keyUsage: KU.digitalSignature | KU.keyCertSign },
  { keyUsage: KU.digitalSignature | KU.cRLSign },
  { keyUsage: null },
  { keyUsage: KU.keyEncipherment },
  { keyUsage: KU.digitalSignature | KU.decipherOnly },
  { eku: [EKU_SERVER] },
  { eku: [EKU_CLIENT] },
  { eku: null },
  { eku: [EKU_CLIENT, '1.3.6.1.4.1.311.20.2.2', '2.999.1'] },
  { notBefore: new Date(now - 7_200_000), notAfter: new Date(now - 60_000) },
  { notBefore: new Date(now + 300_000), notAfter: new Date(now + 3_600_000) },
  { notBefore: new Date(now + 10_000), notAfter: new Date(now + 3_600_000) },
  { notBefore: new Date(Date.UTC(2049, 11, 31, 23, 59, 59)), notAfter: new Date(Date.UTC(2050, 0, 1, 0, 0, 1)) },
  { authorityKeyId: false },
  // extensions an upstream CA's certificates commonly carry (decoded to their shape by certificate.ts)
  {
    extraExtensions: [
      new x509.CRLDistributionPointsExtension(['http://crl.example.org/ca.crl']),
      new x509.AuthorityInfoAccessExtension({ ocsp: ['http://ocsp.example.org'], caIssuers: ['http://ca.example.org/ca.cer'] }),
      new x509.CertificatePolicyExtension(['2.23.140.1.2.1', '1.3.6.1.4.1.99999.1']),
      new x509.Extension('2.5.29.18', false, new Uint8Array(tlv(0x30, tlv(0x82, ascii('ca.example.org'))))),
      new x509.Extension('1.3.6.1.4.1.99999.7', false, new Uint8Array(tlv(0x30, tlv(0x02, Buffer.from([1])), tlv(0x0c, ascii('x'))))),
    ],
  },
];

interface Signed {
  leaf: TestCert;
  issuer: TestCert;
  chain: Uint8Array[];
  bundle: Uint8Array[];
}
const cases: Signed[] = [];

beforeAll(async () => {
  root = await makeRoot({ trustDomain: TD });
  inter = await makeIntermediate(root, { trustDomain: TD });
  for (const shape of LEAF_SHAPES) {
    const leaf = await makeLeaf(inter, shape);
    cases.push({ leaf, issuer: inter, chain: [leaf.der, inter.der], bundle: [root.der] });
  }
  const direct = await makeLeaf(root);
  cases.push({ leaf: direct, issuer: root, chain: [direct.der], bundle: [root.der] });
  // issuers of every shape svid.test.ts makes
  const issuers: { i: TestCert; extra: TestCert[]; r: TestCert }[] = [];
  const notCa = await makeIntermediate(root, { ca: false });
  issuers.push({ i: notCa, extra: [], r: root });
  const old = await makeIntermediate(root, { notBefore: new Date(now - 7_200_000), notAfter: new Date(now - 120_000) });
  issuers.push({ i: old, extra: [], r: root });
  const upper = await makeIntermediate(root, { name: 'Upper Intermediate', pathLength: 0 });
  const lower = await makeIntermediate(upper, { name: 'Lower Intermediate' });
  issuers.push({ i: lower, extra: [upper], r: root });
  const openRoot = await makeRoot({ trustDomain: TD, name: 'Open Root', pathLength: null });
  const roomy = await makeIntermediate(openRoot, { name: 'Roomy Intermediate', pathLength: 1 });
  const lower2 = await makeIntermediate(roomy, { name: 'Lower Intermediate 2', pathLength: null });
  issuers.push({ i: lower2, extra: [roomy], r: openRoot });
  const rogueRoot = await makeRoot({ trustDomain: TD });
  const rogueInter = await makeIntermediate(rogueRoot, { authorityKeyId: false });
  issuers.push({ i: rogueInter, extra: [], r: root });
  issuers.push({ i: rogueInter, extra: [], r: rogueRoot });
  for (const { i, extra, r } of issuers) {
    const leaf = await makeLeaf(i);
    cases.push({ leaf, issuer: i, chain: [leaf.der, i.der, ...extra.map((e) => e.der)], bundle: [r.der] });
  }
});

describe('differential: new validator vs @peculiar/x509 on the crafted corpus', () => {
  it('agrees on every certificate test/pki.ts made, field by field and end to end', () => {
    const tally = newTally();
    expect(crafted.length).toBeGreaterThan(40);
    for (const [i, c] of crafted.entries()) compareFields(c.cert.der, tally, `crafted #${i} (${c.kind})`);
    for (const [i, c] of cases.entries()) {
      for (const usage of ['client', 'server'] as const)
        compareValidation({ chain: c.chain, bundle: c.bundle, usage, now: Date.now() }, tally, `case #${i} ${usage}`);
    }
    console.log(`differential corpus: ${crafted.length} certificates, ${cases.length * 2} validations; ${summary(tally)}`);
    // the unmutated corpus is well-formed DER but for the two SANs the library cannot decode either
    // (truncated, unknown name tag): the new reader refuses nothing the library reads
    expect(tally.fieldsNewStricter).toBe(0);
    expect(tally.fieldsBothRefuse).toBe(2);
    expect(tally.validBothAccept).toBeGreaterThan(10);
    expect(tally.validBothRefuse).toBeGreaterThan(20);
  });
});

// ------------------------------------------------------------------ seeded fuzz

/** mulberry32 */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A DER tree; primitive OCTET STRINGs holding DER (extension values) are opened too. */
interface Node {
  tag: number;
  kids?: Node[];
  bytes?: Buffer;
  /** an OCTET STRING whose content was opened */
  wrapped?: boolean;
}

function toTree(buf: Uint8Array, t: Tlv, depth = 0): Node {
  const body = Buffer.from(buf.subarray(t.contentStart, t.end));
  if (depth < 12 && t.tag & 0x20) return { tag: t.tag, kids: children(buf, t).map((c) => toTree(buf, c, depth + 1)) };
  if (depth < 12 && t.tag === 0x04 && body.length >= 2) {
    try {
      const inner = readTlv(body, 0);
      if (inner.end === body.length) return { tag: t.tag, wrapped: true, kids: [toTree(body, inner, depth + 1)] };
    } catch {
      /* plain octets */
    }
  }
  return { tag: t.tag, bytes: body };
}

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Buffer.from([0x80 | out.length, ...out]);
}

function encode(n: Node): Buffer {
  const body = n.kids ? Buffer.concat(n.kids.map(encode)) : n.bytes!;
  return Buffer.concat([Buffer.from([n.tag]), lengthBytes(body.length), body]);
}

function allNodes(n: Node, out: Node[] = []): Node[] {
  out.push(n);
  for (const k of n.kids ?? []) allNodes(k, out);
  return out;
}

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x7f, 0x80, 0x81, 0x82, 0xff, 0x30, 0x31, 0x86, 0xa0, 0xa3, 0xa6, 0x87, 0x2a];
const TAGS = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x16, 0x17, 0x18, 0x30, 0x31, 0x80, 0x81, 0x82, 0x86, 0x87, 0x88, 0x89, 0xa0, 0xa1, 0xa3, 0xa4, 0xa6];

/** One mutation of a TBSCertificate (DER): structure-aware most of the time, raw bytes otherwise. */
function mutateTbs(tbs: Buffer, r: () => number): { tbs: Buffer; how: string } {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  if (r() < 0.25) {
    const b = Buffer.from(tbs);
    const at = Math.floor(r() * b.length);
    const op = Math.floor(r() * 4);
    if (op === 0) b[at] ^= 1 << Math.floor(r() * 8);
    else if (op === 1) b[at] = pick(INTERESTING);
    else if (op === 2) b[at] = (b[at] + (r() < 0.5 ? 1 : 255)) & 0xff;
    else return { tbs: Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]), how: `raw delete @${at}` };
    return { tbs: b, how: `raw op${op} @${at}` };
  }
  const tree = toTree(tbs, readTlv(tbs, 0));
  const nodes = allNodes(tree);
  // Most mutations land in the extensions, where this code does its own decoding.
  const extRoot = tree.kids?.find((k) => k.tag === 0xa3);
  const pool = extRoot && r() < 0.8 ? allNodes(extRoot) : nodes;
  const n = pick(pool);
  const op = Math.floor(r() * 9);
  switch (op) {
    case 0:
      n.tag = pick(TAGS);
      break;
    case 1:
      if (n.bytes && n.bytes.length) n.bytes[Math.floor(r() * n.bytes.length)] ^= 1 << Math.floor(r() * 8);
      else n.tag ^= 0x20;
      break;
    case 2:
      if (n.bytes && n.bytes.length) n.bytes[Math.floor(r() * n.bytes.length)] = pick(INTERESTING);
      else n.kids?.pop();
      break;
    case 3:
      if (n.kids && n.kids.length) n.kids.splice(Math.floor(r() * n.kids.length), 1);
      else if (n.bytes) n.bytes = n.bytes.subarray(0, Math.floor(r() * n.bytes.length));
      break;
    case 4:
      if (n.kids && n.kids.length) n.kids.push(structuredClone(pick(n.kids)));
      else if (n.bytes) n.bytes = Buffer.concat([n.bytes, Buffer.from([pick(INTERESTING)])]);
      break;
    case 5:
      if (n.kids && n.kids.length > 1) n.kids.reverse();
      else n.bytes = Buffer.alloc(0);
      break;
    case 6:
      // swap in a node from elsewhere (type confusion)
      Object.assign(n, structuredClone(pick(nodes)));
      break;
    case 7:
      if (n.kids) n.kids.push({ tag: pick(TAGS) & ~0x20, bytes: Buffer.from([pick(INTERESTING)]) });
      else if (n.bytes) n.bytes = Buffer.concat([Buffer.from([0x00]), n.bytes]);
      break;
    default:
      if (n.kids) n.kids = [];
      else n.bytes = Buffer.from([pick(INTERESTING), pick(INTERESTING)]);
  }
  return { tbs: encode(tree), how: `tree op${op} on tag 0x${n.tag.toString(16)}` };
}

/** Certificate := SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING signature by `issuer` } */
function resign(tbs: Buffer, issuer: TestCert): Buffer {
  const sig = sign('sha256', tbs, createPrivateKey(issuer.keyPem));
  const alg = Buffer.from('300a06082a8648ce3d040302', 'hex');
  const bits = Buffer.concat([Buffer.from([0x03]), lengthBytes(sig.length + 1), Buffer.from([0]), sig]);
  const body = Buffer.concat([tbs, alg, bits]);
  return Buffer.concat([Buffer.from([0x30]), lengthBytes(body.length), body]);
}

function tbsOf(der: Buffer): Buffer {
  const cert = readTlv(der, 0);
  const t = readTlv(der, cert.contentStart, cert.end);
  return Buffer.from(der.subarray(t.start, t.end));
}

describe('differential fuzz: mutated, re-signed certificates', () => {
  it(`agrees with @peculiar/x509 or refuses, on ${N} mutants (seed printed; FUZZ_SEED replays)`, () => {
    console.log(`svid differential fuzz: FUZZ_SEED=${SEED} FUZZ_N=${N}`);
    const r = rng(SEED);
    const tally = newTally();
    const good = cases.filter((c) => c.issuer === inter);
    for (let k = 0; k < N; k++) {
      const c = good[Math.floor(r() * good.length)];
      const mutateIssuer = r() < 0.2;
      const target = mutateIssuer ? inter : c.leaf;
      const signer = mutateIssuer ? root : inter;
      const steps = 1 + Math.floor(r() * 3);
      let tbs = tbsOf(target.der);
      const hows: string[] = [];
      for (let s = 0; s < steps; s++) {
        try {
          const m = mutateTbs(tbs, r);
          tbs = m.tbs;
          hows.push(m.how);
        } catch {
          break; // an earlier raw mutation left no tree to walk
        }
      }
      const mutant = resign(tbs, signer);
      const label = `mutant #${k} (seed ${SEED}; ${mutateIssuer ? 'intermediate' : 'leaf'}: ${hows.join(', ')})`;
      compareFields(mutant, tally, label);
      const chain = mutateIssuer ? [c.leaf.der, mutant] : [mutant, inter.der];
      compareValidation({ chain, bundle: [root.der], usage: r() < 0.5 ? 'client' : 'server', now: Date.now() }, tally, label);
    }
    console.log(`svid differential fuzz (seed ${SEED}): ${summary(tally)}`);
    // the fuzz must reach past parsing: some mutants are accepted by both and some refused for content reasons
    expect(tally.fieldsBothAccept).toBeGreaterThan(N / 10);
    expect(tally.validBothAccept).toBeGreaterThan(N / 100);
  }, 240_000);
});
