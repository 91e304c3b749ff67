import { makeRoot, makeIntermediate, makeLeaf, type LeafOptions, type TestCert } from '../pki.js';
import type { GatewayCredentials } from '../../ca/api.js';
import { normalizeSerial } from '../../certs/svid.js';

/**
 * A whole test trust domain made by code: root -> intermediate -> SVIDs. What a real CA would hand out,
 * in the shapes the gateway and agents consume (PEM chains, bundle, GatewayCredentials).
 */
export interface TestIdentity {
  id: string;
  keyPem: string;
  /** leaf + intermediate */
  certChainPem: string;
  leaf: TestCert;
  serial: string;
  notBefore: number;
  notAfter: number;
}

export interface TestTrustDomain {
  trustDomain: string;
  root: TestCert;
  inter: TestCert;
  bundlePem: string;
  issue(id: string, opts?: Omit<LeafOptions, 'uris'> & { uris?: string[] }): Promise<TestIdentity>;
  gatewayCredentials(id?: string, opts?: Omit<LeafOptions, 'uris'>): Promise<GatewayCredentials>;
}

export async function makeTrustDomain(trustDomain = 'example.org'): Promise<TestTrustDomain> {
  const root = await makeRoot({ trustDomain });
  const inter = await makeIntermediate(root, { trustDomain });
  const issue = async (id: string, opts: Omit<LeafOptions, 'uris'> & { uris?: string[] } = {}): Promise<TestIdentity> => {
    const leaf = await makeLeaf(inter, { uris: [id], ...opts });
    return {
      id,
      keyPem: leaf.keyPem,
      certChainPem: leaf.pem + inter.pem,
      leaf,
      serial: normalizeSerial(leaf.cert.serialNumber),
      notBefore: leaf.cert.notBefore.getTime(),
      notAfter: leaf.cert.notAfter.getTime(),
    };
  };
  return {
    trustDomain,
    root,
    inter,
    bundlePem: root.pem,
    issue,
    async gatewayCredentials(id = `spiffe://${trustDomain}/tollgate/gateway`, opts = {}) {
      const i = await issue(id, { dns: ['localhost'], ips: ['127.0.0.1'], ...opts });
      return { keyPem: i.keyPem, certChainPem: i.certChainPem, bundlePem: root.pem, spiffeId: id, notBefore: i.notBefore, notAfter: i.notAfter };
    },
  };
}
