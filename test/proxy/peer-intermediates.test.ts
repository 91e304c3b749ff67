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

/** what getPeerCertificate(true) gives: each certificate with raw, fingerprint256 and its issuer */
function socketOf(chain: TestCert[]): TLSSocket {
  type Peer = { raw: Buffer; fingerprint256: string; issuerCertificate?: Peer };
  const peers: Peer[] = chain.map((c) => {
    const der = Buffer.from(c.der);
    return { raw: der, fingerprint256: new X509Certificate(der).fingerprint256 };
  });
  for (let i = 0; i < peers.length; i++) peers[i].issuerCertificate = peers[i + 1] ?? peers[i]; // the root is its own issuer
  return { getPeerCertificate: () => peers[0] ?? {} } as unknown as TLSSocket;
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
});
