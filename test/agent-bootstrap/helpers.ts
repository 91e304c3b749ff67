/** Identities for tests, issued by a real (stub or real) CA from a real CSR. */
import type { CertificateAuthority } from '../../ca/api.js';
import { newKeyAndCsr } from '../../agent-bootstrap/keys.js';
import { toMaterial, type SvidMaterial } from '../../agent-bootstrap/material.js';
import { AgentIdentity } from '../../agent-bootstrap/identity.js';

export async function issue(ca: CertificateAuthority, spiffeId: string): Promise<SvidMaterial> {
  const { keyPem, csrDer } = await newKeyAndCsr();
  const { token } = await ca.createJoinToken(spiffeId);
  const s = await ca.bootstrap(token, csrDer);
  return toMaterial(keyPem, s.certChainPem, s.bundlePem);
}

/** An identity whose renewals go straight to the CA (no network): for TLS tests of the consumers. */
export async function localIdentity(ca: CertificateAuthority, spiffeId: string): Promise<AgentIdentity> {
  return new AgentIdentity(await issue(ca, spiffeId), { renewFn: () => issue(ca, spiffeId) });
}

/**
 * The gateway's own identity, issued the way the gateway gets it (the CA's internal issuance: no join
 * token exists for the reserved spiffe://<td>/tollgate/ namespace); renewals issue a new one the same way.
 */
export async function gatewayIdentity(ca: CertificateAuthority): Promise<AgentIdentity> {
  const issueGateway = async () => {
    const c = await ca.issueGatewayCredentials(`spiffe://${ca.trustDomain}/tollgate/gateway`, ['localhost', '127.0.0.1']);
    return toMaterial(c.keyPem, c.certChainPem, c.bundlePem);
  };
  return new AgentIdentity(await issueGateway(), { renewFn: issueGateway });
}
