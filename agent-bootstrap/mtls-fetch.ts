/**
 * A fetch that always presents the agent's current SVID and trusts only the agent's bundle. Use it as
 * `fetchImpl` for @a2a-js/sdk (ClientFactory, transports, card resolver).
 *
 * On rotation a new undici Agent (connection pool) is built and swapped in; the old one is closed
 * gracefully, so requests already in flight on it finish, and new requests open connections with the new
 * certificate. TLS session resumption is off (`maxCachedSessions: 0`): Node skips the server identity
 * check on resumed sessions, and every connection should show the current certificate anyway.
 */
import { Agent, Headers, fetch as undiciFetch } from 'undici';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import { validateSvid } from '../certs/svid.js';
import { parseSpiffeId } from '../certs/spiffe-id.js';
import type { AgentIdentity } from './identity.js';
import type { SvidMaterial } from './material.js';
import { currentDelegation, DELEGATION_HEADER, SCOPE_HEADER, TRACEPARENT_HEADER } from './delegation.js';

export interface MtlsFetchOptions {
  /**
   * Verify the server by its SPIFFE ID (read from its DER certificate) instead of by hostname:
   * e.g. the gateway's `spiffe://<td>/tollgate/gateway`. An array allows any of them.
   */
  expectedServerId?: string | string[];
  /** extra undici Agent options (connections, keepAliveTimeout, …); TLS options are ours */
  agentOptions?: Omit<Agent.Options, 'connect'>;
  now?: () => number;
}

export type MtlsFetch = typeof globalThis.fetch & {
  /** the dispatcher currently in use (changes on rotation) */
  readonly dispatcher: Agent;
  /** stop following rotations and close the pool */
  close(): Promise<void>;
};

/** Leaf first, walking the issuer links Node built (ends at the bundle root). */
export function chainFromPeerCertificate(cert: PeerCertificate | DetailedPeerCertificate): Buffer[] {
  const out: Buffer[] = [];
  let c: PeerCertificate | DetailedPeerCertificate | undefined = cert;
  while (c && c.raw && out.length < 8 && !out.some((d) => d.equals(c!.raw))) {
    out.push(c.raw);
    c = (c as DetailedPeerCertificate).issuerCertificate;
  }
  return out;
}

export function createMtlsFetch(identity: AgentIdentity, opts: MtlsFetchOptions = {}): MtlsFetch {
  const now = opts.now ?? Date.now;
  const expected =
    opts.expectedServerId === undefined
      ? null
      : (Array.isArray(opts.expectedServerId) ? opts.expectedServerId : [opts.expectedServerId]).map((id) => parseSpiffeId(id).uri);

  const checkServerId = (_host: string, cert: PeerCertificate): Error | undefined => {
    try {
      const svid = validateSvid({
        chain: chainFromPeerCertificate(cert),
        bundle: identity.bundleDer(),
        now: now(),
        trustDomain: identity.trustDomain,
        usage: 'server',
      });
      if (!expected!.includes(svid.id.uri)) {
        return new Error(`the server presented ${svid.id.uri}, expected ${expected!.join(' or ')}`);
      }
      return undefined;
    } catch (e) {
      return new Error(`the server certificate is not a valid SVID: ${(e as Error).message}`);
    }
  };

  const build = (m: SvidMaterial): Agent =>
    new Agent({
      ...opts.agentOptions,
      connect: {
        key: m.keyPem,
        cert: m.certChainPem,
        ca: m.bundlePem,
        rejectUnauthorized: true,
        maxCachedSessions: 0,
        ...(expected ? { checkServerIdentity: checkServerId } : {}),
      },
    });

  let dispatcher = build(identity.material);
  const onRotated = (next: SvidMaterial) => {
    const old = dispatcher;
    dispatcher = build(next);
    // close() waits for in-flight requests; errors here only mean the pool was already gone.
    old.close().catch(() => undefined);
  };
  identity.on('rotated', onRotated);

  const fetchImpl = ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) => {
    const ctx = currentDelegation();
    let headers = init?.headers;
    if (ctx && (ctx.delegation || ctx.traceparent || ctx.scope)) {
      const fromRequest =
        typeof input === 'object' && input !== null && 'headers' in input && !(input instanceof URL) ? (input as { headers: HeadersInit }).headers : undefined;
      const h = new Headers((init?.headers ?? fromRequest) as ConstructorParameters<typeof Headers>[0]);
      // An explicit header always wins: the agent may be starting a new chain on purpose.
      if (ctx.delegation && !h.has(DELEGATION_HEADER)) h.set(DELEGATION_HEADER, ctx.delegation);
      if (ctx.traceparent && !h.has(TRACEPARENT_HEADER)) h.set(TRACEPARENT_HEADER, ctx.traceparent);
      if (ctx.scope && !h.has(SCOPE_HEADER)) h.set(SCOPE_HEADER, ctx.scope);
      headers = h;
    }
    return undiciFetch(input, { ...init, headers, dispatcher });
  }) as unknown as MtlsFetch;

  Object.defineProperty(fetchImpl, 'dispatcher', { get: () => dispatcher });
  Object.defineProperty(fetchImpl, 'close', {
    value: async () => {
      identity.off('rotated', onRotated);
      await dispatcher.close();
    },
  });
  return fetchImpl;
}
