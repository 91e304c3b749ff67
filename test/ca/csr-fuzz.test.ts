/**
 * The CSR reader parses untrusted DER by hand (ca/der.ts, for speed: see its header), so it gets a
 * mutation fuzz: thousands of corrupted CSRs must each either verify (a mutation that changed nothing
 * that matters) or be refused with a CaError — never another exception, a hang, or a wrong acceptance.
 */
import { describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import { CaError } from '../../ca/api.js';
import { verifyCsr } from '../../ca/csr.js';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pemBlocks } from '../../certs/pem.js';

/** A fixed, valid P-256 CSR (made once with @peculiar/x509; openssl verifies it): with the seed, the inputs are fully reproducible. */
const GOOD = pemBlocks(fs.readFileSync(fileURLToPath(new URL('./fixtures/fuzz-csr.pem', import.meta.url)), 'utf8'), 'CERTIFICATE REQUEST')[0];

/**
 * Seeded, so a failure can be replayed: the seed is printed on every run; FUZZ_SEED=<n> reruns that seed.
 * mulberry32: a small 32-bit PRNG, plenty for picking mutations (it guards nothing cryptographic).
 */
const SEED = process.env.FUZZ_SEED !== undefined && process.env.FUZZ_SEED !== '' ? Number(process.env.FUZZ_SEED) >>> 0 : randomInt(2 ** 32);
if (process.env.FUZZ_SEED !== undefined && process.env.FUZZ_SEED !== '' && !/^\d+$/.test(process.env.FUZZ_SEED))
  throw new Error(`FUZZ_SEED must be a decimal integer, got ${process.env.FUZZ_SEED}`);

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function randomBuffer(next: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) {
    const v = next();
    for (let k = 0; k < 4 && i + k < n; k++) b[i + k] = (v >>> (8 * k)) & 0xff;
  }
  return b;
}

function mutate(src: Buffer, rnd: Buffer, i: number): Buffer {
  const b = Buffer.from(src);
  const kind = rnd[0] % 4;
  const pos = rnd.readUInt16BE(1) % b.length;
  if (kind === 0)
    b[pos] ^= 1 << (rnd[3] % 8); // flip a bit
  else if (kind === 1)
    b[pos] = rnd[4]; // replace a byte (often a tag or a length)
  else if (kind === 2)
    return Buffer.concat([b.subarray(0, pos), b.subarray(pos + 1 + (i % 3))]); // delete bytes
  else return Buffer.concat([b.subarray(0, pos), rnd.subarray(5, 6 + (i % 4)), b.subarray(pos)]); // insert bytes
  return b;
}

describe('CSR reader under mutation', () => {
  it('5,000 corrupted CSRs: verified or refused with CaError, nothing else', () => {
    console.log(`csr-fuzz seed ${SEED} (rerun with FUZZ_SEED=${SEED})`);
    const next = mulberry32(SEED);
    const good = Buffer.from(GOOD);
    const original = verifyCsr(good).point;
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const bad = mutate(good, randomBuffer(next, 16), i);
      try {
        const key = verifyCsr(bad);
        // accepted: the signature still verified, so the key must be the one that signed
        expect(Buffer.from(key.point).equals(Buffer.from(original)), `seed ${SEED}, mutation ${i}: ${bad.toString('hex')}`).toBe(true);
      } catch (e) {
        expect(e, `seed ${SEED}, mutation ${i}: ${bad.toString('hex')}`).toBeInstanceOf(CaError);
        refused++;
      }
    }
    expect(refused, `seed ${SEED}`).toBeGreaterThan(4500);
  });

  it('the same seed gives the same mutations (FUZZ_SEED reproduces a run)', () => {
    const a = mulberry32(SEED);
    const b = mulberry32(SEED);
    const src = Buffer.from('3082010a02820101', 'hex');
    for (let i = 0; i < 100; i++) expect(mutate(src, randomBuffer(a, 16), i).equals(mutate(src, randomBuffer(b, 16), i))).toBe(true);
    expect(randomBuffer(mulberry32(1), 16).equals(randomBuffer(mulberry32(2), 16))).toBe(false);
  });
});
