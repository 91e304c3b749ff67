/** Rotation timing (injected clock + randomness) and the PEM / fingerprint helpers. */
import { describe, it, expect } from 'vitest';
import { X509Certificate as NodeX509, createHash } from 'node:crypto';
import { rotateAt, shouldRotate, type Validity } from '../../certs/rotation.js';
import { pemBlocks, derToPem, fingerprint, parseFingerprint } from '../../certs/pem.js';
import { makeRoot, makeLeaf } from '../pki.js';

const T0 = Date.UTC(2030, 0, 1);
const LIFE = 3_600_000;
const cert: Validity = { notBefore: T0, notAfter: T0 + LIFE };
/** The instant at `pct` percent of the certificate's life. */
const at = (pct: number) => T0 + (LIFE * pct) / 100;
const fixed = (r: number) => () => r;

describe('shouldRotate / rotateAt', () => {
  it('does not rotate at 49 % of life and rotates at 50 % (no jitter drawn)', () => {
    expect(shouldRotate(at(49), cert, fixed(0))).toBe(false);
    expect(shouldRotate(at(50), cert, fixed(0))).toBe(true);
    expect(rotateAt(cert, fixed(0))).toBe(at(50));
  });

  it('jitter pulls the moment earlier in proportion to the random draw', () => {
    expect(rotateAt(cert, fixed(0.5))).toBe(at(45));
    expect(shouldRotate(at(44), cert, fixed(0.5))).toBe(false);
    expect(shouldRotate(at(46), cert, fixed(0.5))).toBe(true);
  });

  it('never rotates before 40 % of life, even at the largest draw', () => {
    expect(rotateAt(cert, fixed(0.999999))).toBeGreaterThanOrEqual(at(40));
    expect(rotateAt(cert, fixed(1))).toBe(at(40));
    expect(shouldRotate(at(39.9), cert, fixed(0.999999))).toBe(false);
    expect(shouldRotate(at(40), cert, fixed(1))).toBe(true);
  });

  it('clamps a misbehaving random source and jitter instead of leaving the window', () => {
    expect(rotateAt(cert, fixed(7))).toBe(at(40));
    expect(rotateAt(cert, fixed(-3))).toBe(at(50));
    expect(rotateAt(cert, fixed(1), 5)).toBe(at(0));
    expect(rotateAt(cert, fixed(1), -1)).toBe(at(50));
    expect(rotateAt(cert, fixed(0.5), 0)).toBe(at(50));
  });

  it('with the default Math.random, every draw lands in [40 %, 50 %] of life', () => {
    for (let i = 0; i < 1000; i++) {
      const t = rotateAt(cert);
      expect(t).toBeGreaterThanOrEqual(at(40));
      expect(t).toBeLessThanOrEqual(at(50));
    }
  });

  it('spreads a fleet issued together over the jitter window', () => {
    const draws = [0, 0.25, 0.5, 0.75, 0.99];
    const times = draws.map((r) => rotateAt(cert, fixed(r)));
    expect(new Set(times).size).toBe(draws.length);
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('is false at issuance and true after expiry', () => {
    expect(shouldRotate(T0, cert, fixed(1))).toBe(false);
    expect(shouldRotate(T0 + LIFE + 1, cert, fixed(0))).toBe(true);
  });
});

describe('PEM helpers', () => {
  it('round-trips DER through PEM with 64-column base64 lines', async () => {
    const root = await makeRoot();
    const pem = derToPem(root.der);
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    expect(pem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    const body = pem.split('\n').slice(1, -2);
    expect(body.slice(0, -1).every((l) => l.length === 64)).toBe(true);
    expect(body.at(-1)!.length).toBeLessThanOrEqual(64);
    expect(pemBlocks(pem)).toEqual([root.der]);
    // An independent parser (OpenSSL via node:crypto) reads our PEM as the same certificate.
    expect(Buffer.from(new NodeX509(pem).raw).equals(root.der)).toBe(true);
  });

  it('reads every block of a bundle, in order, and only those with the asked label', async () => {
    const root = await makeRoot();
    const leaf = await makeLeaf(root);
    const text = `junk before\n${leaf.pem}${root.pem}${leaf.keyPem}trailing`;
    expect(pemBlocks(text)).toEqual([leaf.der, root.der]);
    const keys = pemBlocks(text, 'PRIVATE KEY');
    expect(keys).toHaveLength(1);
    expect(derToPem(keys[0], 'PRIVATE KEY')).toBe(leaf.keyPem);
  });

  it('tolerates CRLF line endings and returns nothing for text without blocks', async () => {
    const root = await makeRoot();
    expect(pemBlocks(root.pem.replace(/\n/g, '\r\n'))).toEqual([root.der]);
    expect(pemBlocks('no pem here')).toEqual([]);
    // a block whose END label does not match its BEGIN label is not a block
    expect(pemBlocks('-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n')).toEqual([]);
  });

  it('accepts an ArrayBuffer and a Uint8Array view with an offset', () => {
    const bytes = new Uint8Array([0, 1, 2, 3, 250, 251, 252, 253, 254, 255]);
    const view = new Uint8Array(bytes.buffer, 2, 5);
    expect(pemBlocks(derToPem(view, 'X'), 'X')[0]).toEqual(Buffer.from([2, 3, 250, 251, 252]));
    expect(pemBlocks(derToPem(bytes.buffer, 'X'), 'X')[0]).toEqual(Buffer.from(bytes));
  });
});

describe('fingerprint / parseFingerprint', () => {
  it("formats sha256:<64 lowercase hex> of the DER, matching OpenSSL's fingerprint", async () => {
    const root = await makeRoot();
    const fp = fingerprint(root.der);
    expect(fp).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fp).toBe(`sha256:${createHash('sha256').update(root.der).digest('hex')}`);
    // node:crypto prints it openssl-style (uppercase, colon-separated); parseFingerprint reads that form.
    const opensslStyle = new NodeX509(root.der).fingerprint256;
    expect(opensslStyle).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(parseFingerprint(`sha256:${opensslStyle}`)).toBe(fp.slice('sha256:'.length));
  });

  it('accepts colons, uppercase hex, an uppercase prefix and surrounding whitespace', () => {
    const hex = 'ab'.repeat(32);
    expect(parseFingerprint(`sha256:${hex}`)).toBe(hex);
    expect(parseFingerprint(`sha256:${hex.toUpperCase()}`)).toBe(hex);
    expect(parseFingerprint(`SHA256:${hex.match(/../g)!.join(':')}`)).toBe(hex);
    expect(parseFingerprint(`  sha256:${hex}\n`)).toBe(hex);
  });

  it.each([
    ['63 hex digits', `sha256:${'a'.repeat(63)}`],
    ['65 hex digits', `sha256:${'a'.repeat(65)}`],
    ['a SHA-1 length', `sha256:${'a'.repeat(40)}`],
    ['no prefix', 'a'.repeat(64)],
    ['another algorithm', `sha1:${'a'.repeat(64)}`],
    ['non-hex characters', `sha256:${'g'.repeat(64)}`],
    ['an empty value', 'sha256:'],
    ['a space inside', `sha256:${'a'.repeat(32)} ${'a'.repeat(32)}`],
  ])('rejects %s', (_what, input) => {
    expect(parseFingerprint(input)).toBeNull();
  });
});
