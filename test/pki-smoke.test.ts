import { describe, it, expect } from 'vitest';
import { makeChain } from './pki.js';
import { validateSvid } from '../certs/svid.js';

describe('test PKI + SVID validation smoke', () => {
  it('accepts a well-formed SVID chain', async () => {
    const { root, chainDer } = await makeChain();
    const v = validateSvid({ chain: chainDer, bundle: [root.der], now: Date.now(), trustDomain: 'example.org', usage: 'client' });
    expect(v.id.uri).toBe('spiffe://example.org/agent/test');
  });
});
