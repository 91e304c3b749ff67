/**
 * The CSR reader parses untrusted DER by hand (ca/der.ts, for speed: see its header), so it gets a
 * mutation fuzz: thousands of corrupted CSRs must each either verify (a mutation that changed nothing
 * that matters) or be refused with a CaError — never another exception, a hang, or a wrong acceptance.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { CaError } from '../../ca/api.js';
import { verifyCsr } from '../../ca/csr.js';
import { makeCsr } from './helpers.js';

function mutate(src: Buffer, rnd: Buffer, i: number): Buffer {
  const b = Buffer.from(src);
  const kind = rnd[0] % 4;
  const pos = rnd.readUInt16BE(1) % b.length;
  if (kind === 0) b[pos] ^= 1 << (rnd[3] % 8); // flip a bit
  else if (kind === 1) b[pos] = rnd[4]; // replace a byte (often a tag or a length)
  else if (kind === 2) return Buffer.concat([b.subarray(0, pos), b.subarray(pos + 1 + (i % 3))]); // delete bytes
  else return Buffer.concat([b.subarray(0, pos), rnd.subarray(5, 6 + (i % 4)), b.subarray(pos)]); // insert bytes
  return b;
}

describe('CSR reader under mutation', () => {
  it('5,000 corrupted CSRs: verified or refused with CaError, nothing else', async () => {
    const good = (await makeCsr()).der;
    const original = verifyCsr(good).point;
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const bad = mutate(good, randomBytes(16), i);
      try {
        const key = verifyCsr(bad);
        // accepted: the signature still verified, so the key must be the one that signed
        expect(Buffer.from(key.point).equals(Buffer.from(original))).toBe(true);
      } catch (e) {
        expect(e, `mutation ${i}: ${bad.toString('hex')}`).toBeInstanceOf(CaError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(4500);
  });
});
