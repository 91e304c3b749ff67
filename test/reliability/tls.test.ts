import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, rawRequest, ALICE, SEND, type Harness } from '../proxy/harness.js';
import { makeTrustDomain } from '../fakes/trust-domain.js';
import { makeLeaf, makeRoot, EKU_SERVER } from '../pki.js';
import { x509 } from '../../certs/x509.js';
import { rawExchange, request, RPC, type RawIdentity } from './helpers.js';

/**
 * Red team: who may open a connection at all. Every client below presents something that is not a valid,
 * current SVID of this trust domain (or nothing), and gets no answer from the callee: the handshake fails, or
 * the gateway answers 401/403. The upstream records nothing.
 */
let h: Harness;
const HOUR = 3_600_000;

beforeAll(async () => {
  h = await startHarness();
  h.gw.reloadConfig(h.config({ policy: [{ from: ['spiffe://example.org/agent/*', 'spiffe://evil.org/agent/*'], to: ['echo'] }] }));
});
afterAll(async () => h?.close());

type Make = (h: Harness) => Promise<RawIdentity | null>;
const chain = (leaf: { keyPem: string; pem: string }) => ({ keyPem: leaf.keyPem, certChainPem: leaf.pem + h.td.inter.pem });

const clients: [name: string, make: Make, tlsOpts?: Record<string, unknown>][] = [
  ['no client certificate', () => Promise.resolve(null)],
  ["alice's SPIFFE ID from another CA", async () => (await makeTrustDomain('example.org')).issue(ALICE)],
  [
    "self-signed leaf with alice's SPIFFE ID",
    async () => {
      const root = await makeRoot({ trustDomain: 'example.org' });
      const leaf = await makeLeaf(root, { uris: [ALICE] });
      return { keyPem: leaf.keyPem, certChainPem: leaf.pem };
    },
  ],
  [
    'expired certificate',
    async (h) => h.td.issue('spiffe://example.org/agent/old', { notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - 60_000) }),
  ],
  [
    'not yet valid certificate',
    async (h) => h.td.issue('spiffe://example.org/agent/early', { notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 2 * HOUR) }),
  ],
  [
    'CA certificate used as a leaf',
    async (h) =>
      chain(
        await makeLeaf(h.td.inter, {
          uris: ['spiffe://example.org/agent/ca'],
          ca: true,
          keyUsage: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature,
        }),
      ),
  ],
  ['no URI SAN (DNS name only)', async (h) => chain(await makeLeaf(h.td.inter, { uris: [], dns: ['alice.example.org'] }))],
  ['two URI SANs', async (h) => chain(await makeLeaf(h.td.inter, { uris: [ALICE, 'spiffe://example.org/agent/admin'] }))],
  ['SPIFFE ID of a foreign trust domain, signed by this CA', async (h) => h.td.issue('spiffe://evil.org/agent/alice')],
  ['serverAuth-only EKU', async (h) => h.td.issue('spiffe://example.org/agent/srv', { eku: [EKU_SERVER] })],
  [
    'keyCertSign on a leaf',
    async (h) => h.td.issue('spiffe://example.org/agent/signer', { keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign }),
  ],
  [
    'leaf without its intermediate',
    async (h) => {
      const i = await h.td.issue('spiffe://example.org/agent/lonely');
      return { keyPem: i.keyPem, certChainPem: i.leaf.pem };
    },
  ],
  ['valid SVID but TLS 1.1 only', async (h) => h.td.issue('spiffe://example.org/agent/legacy'), { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }],
];

describe('red team: TLS client authentication', () => {
  it('control: a valid SVID on the same code path is answered 200', async () => {
    const r = await rawExchange(h.gw.port, h.alice, h.td.bundlePem, request('POST', '/a2a/echo/', { 'Content-Type': 'application/json' }, RPC(1)));
    expect(r.status).toBe(200);
  });

  it.each(clients)('%s: no answer from the callee', async (_name, make, tlsOpts) => {
    h.upstream.requests.length = 0;
    const id = await make(h);
    const r = await rawExchange(h.gw.port, id, h.td.bundlePem, request('POST', '/a2a/echo/', { 'Content-Type': 'application/json' }, RPC(1)), { tls: tlsOpts });
    expect(r.status === undefined || r.status === 401 || r.status === 403, `status ${r.status}: ${r.text.slice(0, 200)}`).toBe(true);
    expect(h.upstream.requests).toHaveLength(0);
  });

  it('an SVID spelling the trust domain in upper case is refused, or is exactly the lower-case identity (revocation included)', async () => {
    h.upstream.requests.length = 0;
    const shouty = await h.td.issue('spiffe://EXAMPLE.ORG/agent/shouty');
    const first = await rawExchange(h.gw.port, shouty, h.td.bundlePem, request('POST', '/a2a/echo/', { 'Content-Type': 'application/json' }, RPC(1)));
    if (first.status === 200) {
      expect(h.upstream.requests[0].headers['x-forwarded-client-cert']).toBe(`By=${h.creds.spiffeId};URI=spiffe://example.org/agent/shouty`);
      h.revoked.add('spiffe://example.org/agent/shouty');
      try {
        const again = await rawExchange(h.gw.port, shouty, h.td.bundlePem, request('POST', '/a2a/echo/', { 'Content-Type': 'application/json' }, RPC(2)));
        expect(again.status).toBe(403);
      } finally {
        h.revoked.delete('spiffe://example.org/agent/shouty');
      }
    } else expect([401, 403, undefined]).toContain(first.status);
  });

  it('a revoked identity is refused on a resumed TLS session and on an open keep-alive connection', async () => {
    const carol = await h.td.issue('spiffe://example.org/agent/carol');
    const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
    const keep = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const url = `${h.base}/a2a/echo/`;
    const opts = (a: https.Agent, n: number) => ({ method: 'POST', body: SEND(n), headers: { 'content-type': 'application/json' }, agent: a });
    try {
      expect((await rawRequest(carol, h.td.bundlePem, url, opts(agent, 1))).status).toBe(200);
      expect((await rawRequest(carol, h.td.bundlePem, url, opts(keep, 2))).status).toBe(200);
      h.revoked.add(carol.serial);
      h.upstream.requests.length = 0;
      const resumed = await rawRequest(carol, h.td.bundlePem, url, opts(agent, 3));
      expect(resumed.reused).toBe(true);
      expect(resumed.status).toBe(403);
      const open = await rawRequest(carol, h.td.bundlePem, url, opts(keep, 4));
      expect(open.status).toBe(403);
      expect(h.upstream.requests).toHaveLength(0);
    } finally {
      agent.destroy();
      keep.destroy();
    }
  });
});
