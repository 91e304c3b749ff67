import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from '../../governance/delegation/mac.js';

describe('HmacSha256 (two one-shot hashes)', () => {
  it('equals createHmac for random keys (short, block-sized, longer than a block) and messages of every length up to 2 KiB', () => {
    for (const keyLen of [1, 16, 32, 63, 64, 65, 100]) {
      const key = randomBytes(keyLen);
      const h = new HmacSha256(key);
      for (let len = 0; len <= 2048; len += len < 130 ? 1 : 97) {
        const text = randomBytes(len).toString('latin1');
        const want = createHmac('sha256', key).update(Buffer.from(text, 'latin1')).digest();
        expect(h.mac(text).equals(want), `key ${keyLen} B, message ${len} B`).toBe(true);
        expect(h.macBase64url(text), `key ${keyLen} B, message ${len} B, base64url`).toBe(want.toString('base64url'));
      }
    }
  });

  it('gives the same answer after a long message grew its scratch buffer, and for repeated calls', () => {
    const key = randomBytes(32);
    const h = new HmacSha256(key);
    const short = 'v2.kid.payload';
    const first = h.mac(short);
    h.mac('x'.repeat(10_000));
    expect(h.mac(short).equals(first)).toBe(true);
    expect(first.equals(createHmac('sha256', key).update(short).digest())).toBe(true);
    // a prefix of a longer text: what token verification MACs (the token up to its last dot)
    expect(h.mac(`${short}.MACMACMAC`, short.length).equals(first)).toBe(true);
    expect(h.macBase64url(`${short}.MACMACMAC`, short.length)).toBe(first.toString('base64url'));
  });
});
