/**
 * The proxy's caller identity when the caller's leaf was signed by an intermediate the gateway does not hold
 * (fleet mode: another replica's). Pure: IdentityResolver on stand-in sockets shaped like what Node returns
 * from getPeerCertificate(true) after a full handshake (leaf -> intermediate -> root) and on a resumed
 * session (the leaf only).
 */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { IdentityResolver } from '../../proxy/tls/identity.js';
import { buildTrust } from '../../proxy/tls/trust.js';
import { makeTrustDomain } from '../fakes/trust-domain.js';
import { makeIntermediate, makeLeaf, type TestCert } from '../pki.js';

const TD = 'example.org';

/**
 * What getPeerCertificate(true) gives: each certificate with raw, fingerprint256 and its issuer;
 * getPeerCertificate(false), the leaf without its issuer. `detailedReads` counts the (dear) detailed calls.
 */
function socketOf(chain: TestCert[]): TLSSocket & { detailedReads: number } {
  type Peer = { raw: Buffer; fingerprint256: string; issuerCertificate?: Peer };
  const peers: Peer[] = chain.map((c) => {
    const der = Buffer.from(c.der);
    return { raw: der, fingerprint256: new X509Certificate(der).fingerprint256 };
  });
  for (let i = 0; i < peers.length; i++) peers[i].issuerCertificate = peers[i + 1] ?? peers[i]; // the root is its own issuer
  const socket = {
    detailedReads: 0,
    getPeerCertificate(detailed?: boolean) {
      if (!detailed) return peers[0] === undefined ? {} : { raw: peers[0].raw, fingerprint256: peers[0].fingerprint256 };
      socket.detailedReads++;
      return peers[0] ?? {};
    },
  };
  return socket as unknown as TLSSocket & { detailedReads: number };
}

describe('IdentityResolver: intermediates the client sends', () => {
  it("chains a leaf through the intermediate the client sent (another replica's), and through it again on a resumed session once the leaf cache is gone", async () => {
    const td = await makeTrustDomain(TD);
    const trust = buildTrust(await td.gatewayCredentials(), undefined, Date.now());
    const replicaA = await makeIntermediate(td.root, { trustDomain: TD });
    const leaf = await makeLeaf(replicaA, { uris: [`spiffe://${TD}/agent/erin`] });
    const resolver = new IdentityResolver(trust, Date.now);

    // a resumed session before any full handshake: nothing to chain the leaf through
    expect(new IdentityResolver(trust, Date.now).resolve(socketOf([leaf]))).toMatchObject({ ok: false, code: 'svid_chain' });

    expect(resolver.resolve(socketOf([leaf, replicaA, td.root]))).toMatchObject({ ok: true, id: `spiffe://${TD}/agent/erin` });
    // a new trust generation (the gateway's certificate rotated) empties the validated-leaf cache
    resolver.setTrust(buildTrust(await td.gatewayCredentials(), trust, Date.now()));
    expect(resolver.resolve(socketOf([leaf]))).toMatchObject({ ok: true, id: `spiffe://${TD}/agent/erin` });
  });
  it('resolves a leaf it validated before from the leaf alone, without reading the chain again', async () => {
    const td = await makeTrustDomain(TD);
    const trust = buildTrust(await td.gatewayCredentials(), undefined, Date.now());
    const leaf = await makeLeaf(td.inter, { uris: [`spiffe://${TD}/agent/frank`] });
    const other = await makeLeaf(td.inter, { uris: [`spiffe://${TD}/agent/grace`] });
    const resolver = new IdentityResolver(trust, Date.now);
    const first = socketOf([leaf, td.inter, td.root]);
    expect(resolver.resolve(first)).toMatchObject({ ok: true, id: `spiffe://${TD}/agent/frank` });
    expect(first.detailedReads).toBe(1);
    const again = socketOf([leaf, td.inter, td.root]);
    expect(resolver.resolve(again)).toMatchObject({ ok: true, id: `spiffe://${TD}/agent/frank` });
    expect(again.detailedReads).toBe(0);
    // another leaf is validated with its chain
    const third = socketOf([other, td.inter, td.root]);
    expect(resolver.resolve(third)).toMatchObject({ ok: true, id: `spiffe://${TD}/agent/grace` });
    expect(third.detailedReads).toBe(1);
    // no certificate at all
    expect(resolver.resolve(socketOf([]))).toMatchObject({ ok: false, code: 'no_peer_certificate' });
  });
});
