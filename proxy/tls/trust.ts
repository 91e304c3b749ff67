import { pemBlocks, TrustBundle, CertError, parseWorkloadId } from '../../certs/index.js';
import { X509Certificate } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import { tls } from '../../certs/node-tls.js';
import type { GatewayCredentials } from '../../ca/api.js';
import { ProxyError } from '../errors.js';

/**
 * What the gateway trusts and presents, derived from GatewayCredentials at start and on every reload.
 *
 * `intermediates`: the CA intermediates of the gateway's own chain, kept across reloads until they expire
 * (agents still hold leaves of the previous intermediate right after a CA rotation). The SVID re-validation
 * (tls/identity.ts) chains the client's leaf through these, the intermediates the client sent in its
 * handshake (another replica's, in a fleet) and those it remembered from earlier handshakes (a resumed
 * session carries only the leaf). OpenSSL has already verified the full chain the client sent.
 */
export interface Trust {
  readonly gen: number;
  readonly credentials: GatewayCredentials;
  readonly bundle: TrustBundle;
  readonly bundleDer: readonly Buffer[];
  readonly intermediates: readonly Buffer[];
  readonly trustDomain: string;
  readonly gatewayId: string;
}

let genCounter = 0;

export function buildTrust(c: GatewayCredentials, previous: Trust | undefined, now: number): Trust {
  if (!c || typeof c.keyPem !== 'string' || typeof c.certChainPem !== 'string' || typeof c.bundlePem !== 'string') {
    throw new ProxyError('credentials', 'gateway credentials must have keyPem, certChainPem and bundlePem');
  }
  const chain = pemBlocks(c.certChainPem);
  const bundleDer = pemBlocks(c.bundlePem);
  if (chain.length === 0) throw new ProxyError('credentials', 'the gateway certificate chain (certChainPem) holds no certificate');
  if (bundleDer.length === 0) throw new ProxyError('credentials', 'the trust bundle (bundlePem) holds no certificate');
  let gatewayId: string;
  try {
    gatewayId = parseWorkloadId(c.spiffeId).uri;
  } catch (e) {
    throw new ProxyError('credentials', `the gateway SPIFFE ID is invalid: ${(e as Error).message}`, { cause: e });
  }
  let bundle: TrustBundle;
  try {
    bundle = new TrustBundle(bundleDer);
  } catch (e) {
    throw new ProxyError('credentials', `the trust bundle is invalid: ${(e as CertError).message}`, { cause: e });
  }
  const seen = new Set<string>();
  const intermediates: Buffer[] = [];
  const add = (der: Buffer) => {
    const k = der.toString('base64');
    if (seen.has(k)) return;
    try {
      if (new Date(new X509Certificate(der).validTo).getTime() < now) return; // expired: drop
    } catch {
      return;
    }
    seen.add(k);
    intermediates.push(der);
  };
  for (const der of chain.slice(1)) add(der);
  for (const der of previous?.intermediates ?? []) add(der);
  return { gen: ++genCounter, credentials: c, bundle, bundleDer, intermediates, trustDomain: parseWorkloadId(gatewayId).trustDomain, gatewayId };
}

/** Server and upstream TLS options: ALWAYS the full set (an omitted `ca` silently becomes the public roots). */
export function tlsMaterial(t: Trust): { key: string; cert: string; ca: string } {
  return { key: t.credentials.keyPem, cert: t.credentials.certChainPem, ca: t.credentials.bundlePem };
}

const clientContexts = new WeakMap<Trust, SecureContext>();

/**
 * The TLS context of the gateway's upstream connections, built once per trust generation and shared by
 * every pool: building one parses the key, the chain and the bundle, which would otherwise happen on each
 * new upstream connection.
 */
export function upstreamSecureContext(t: Trust): SecureContext {
  let ctx = clientContexts.get(t);
  if (ctx === undefined) {
    ctx = tls.createSecureContext({ ...tlsMaterial(t), minVersion: 'TLSv1.2' });
    clientContexts.set(t, ctx);
  }
  return ctx;
}
