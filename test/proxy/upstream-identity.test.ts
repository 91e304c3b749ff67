import { describe, it, expect } from 'vitest';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { TrustBundle } from '../../certs/index.js';
import { spiffeServerIdentity, UpstreamIdentityError } from '../../proxy/upstream/identity.js';
import { makeRoot, makeIntermediate, makeLeaf } from '../pki.js';
import { FakeClock } from '../fakes/clock.js';

/** The shape Node's tls hands to checkServerIdentity: leaf -> issuerCertificate ..., with fingerprints. */
function peer(ders: Buffer[]): PeerCertificate {
  const certs = ders.map(
    (raw) => ({ raw, fingerprint256: new X509Certificate(raw).fingerprint256 }) as PeerCertificate & { issuerCertificate?: PeerCertificate },
  );
  for (let i = 0; i + 1 < certs.length; i++) certs[i].issuerCertificate = certs[i + 1];
  return certs[0];
}

describe('upstream identity (checkServerIdentity)', () => {
  it('accepts the registered ID, refuses another, and holds a remembered chain to its validity window', async () => {
    const root = await makeRoot();
    const inter = await makeIntermediate(root);
    const HOUR = 3_600_000;
    const notAfter = new Date(Date.now() + HOUR);
    const echo = await makeLeaf(inter, { uris: ['spiffe://example.org/agent/echo'], notAfter });
    const other = await makeLeaf(inter, { uris: ['spiffe://example.org/agent/other'] });
    const trust = { bundle: new TrustBundle([root.der]), bundleDer: [root.der], intermediates: [inter.der] };
    const clock = new FakeClock();
    const check = spiffeServerIdentity('spiffe://example.org/agent/echo', 'example.org', trust, clock.now);

    expect(check('127.0.0.1', peer([echo.der, inter.der]))).toBeUndefined();
    // the same chain again: answered from memory, same answer
    expect(check('127.0.0.1', peer([echo.der, inter.der]))).toBeUndefined();
    // a resumed session presents only the leaf: a different key, validated through the known intermediate
    expect(check('127.0.0.1', peer([echo.der]))).toBeUndefined();

    const wrong = check('127.0.0.1', peer([other.der, inter.der]));
    expect(wrong).toBeInstanceOf(UpstreamIdentityError);
    expect(wrong!.message).toContain('spiffe://example.org/agent/other');
    // remembered or not, the wrong identity stays refused
    expect(check('127.0.0.1', peer([other.der, inter.der]))).toBeInstanceOf(UpstreamIdentityError);

    // past the leaf's notAfter (+ skew) the remembered chain no longer counts, and validation names the expiry
    clock.set(notAfter.getTime() + 31_000);
    const expired = check('127.0.0.1', peer([echo.der, inter.der]));
    expect(expired).toBeInstanceOf(UpstreamIdentityError);
    expect(expired!.message).toMatch(/expired/);
  });

  it('refuses a chain from another trust domain root even after a good one was remembered', async () => {
    const root = await makeRoot();
    const inter = await makeIntermediate(root);
    const rogueRoot = await makeRoot();
    const rogueInter = await makeIntermediate(rogueRoot);
    const good = await makeLeaf(inter, { uris: ['spiffe://example.org/agent/echo'] });
    const rogue = await makeLeaf(rogueInter, { uris: ['spiffe://example.org/agent/echo'] });
    const trust = { bundle: new TrustBundle([root.der]), bundleDer: [root.der], intermediates: [inter.der] };
    const check = spiffeServerIdentity('spiffe://example.org/agent/echo', 'example.org', trust, Date.now);
    expect(check('h', peer([good.der, inter.der]))).toBeUndefined();
    const r = check('h', peer([rogue.der, rogueInter.der]));
    expect(r).toBeInstanceOf(UpstreamIdentityError);
    expect(r!.message).toMatch(/not a valid SVID/);
  });
});
