/**
 * Agent card rewriting for discovery through the gateway. Pure.
 *
 * - Every endpoint URL (v0.3 `url`, `additionalInterfaces[].url`; v1.0 `supportedInterfaces[].url`) becomes
 *   `<gateway route>` + the endpoint's path with the agent's upstream base path removed, so it resolves to
 *   the same upstream endpoint through the gateway (and the path is never doubled).
 * - v1.0 gRPC interfaces (`protocolBinding: GRPC`, protocolVersion 1.x) are kept when the agent has a gRPC
 *   upstream (agents.<name>.grpc, `grpc` below): the url becomes the gateway's own host:port (an `https://`
 *   url stays one) and the tenant names the agent, `<agent>` or `<agent>/<the agent's tenant>` (the gateway
 *   routes gRPC calls by it and maps it back: proxy/grpc/wire.ts). Other gRPC interfaces (no gRPC upstream,
 *   v0.3) are dropped: the gateway cannot carry them.
 * - `signatures` are dropped: a JWS over the original card is broken by any rewrite.
 * - The mTLS security scheme is declared and required alongside whatever the agent itself requires
 *   (v0.3: OpenAPI-style `securitySchemes`/`security`; v1.0: `mtlsSecurityScheme`/`securityRequirements`).
 */
export const MTLS_SCHEME = 'tollgateMtls';
const MTLS_DESCRIPTION = 'Mutual TLS with an X.509-SVID issued by the Tollgate CA; the gateway verifies the caller.';

export interface CardRewrite {
  /** `https://<host the caller used>/a2a/<agent>` (no trailing slash) */
  gatewayBase: string;
  /** the agent's upstream base path, no trailing '/' ('' for the root) */
  upstreamBasePath: string;
  /** set when the agent has a gRPC upstream: its gRPC interfaces are kept, routed by tenant */
  grpc?: { agent: string };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Map an endpoint URL to the gateway route. Returns null for a URL we cannot carry (no http(s) URL). */
export function rewriteEndpoint(url: string, r: CardRewrite): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Relative URLs are resolved against the agent itself by SDK clients; keep their path.
    if (url.startsWith('/')) return r.gatewayBase + stripBase(url, r.upstreamBasePath);
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  return r.gatewayBase + stripBase(u.pathname, r.upstreamBasePath) + u.search;
}

function stripBase(path: string, base: string): string {
  let p = path;
  if (base.length > 0 && (p === base || p.startsWith(base + '/'))) p = p.slice(base.length);
  if (p === '/') return '';
  return p;
}

function isGrpc(binding: unknown): boolean {
  return typeof binding === 'string' && binding.toUpperCase() === 'GRPC';
}

/** A v1.0 GRPC interface through the gateway: its host:port, the agent named in the tenant (or none: dropped). */
function rewriteGrpcInterface(i: Obj, url: string, r: CardRewrite): Obj[] {
  if (r.grpc === undefined || typeof i.protocolVersion !== 'string' || !/^1(\.|$)/.test(i.protocolVersion)) return [];
  const authority = new URL(r.gatewayBase).host;
  const own = typeof i.tenant === 'string' && i.tenant.length > 0 ? `/${i.tenant}` : '';
  return [{ ...i, url: url.startsWith('https://') ? `https://${authority}` : authority, tenant: r.grpc.agent + own }];
}

/** v0.3 (or the SDK's hybrid card served to v0.3 clients) has a card-level `url`. */
export function isLegacyCard(card: Obj): boolean {
  return typeof card.url === 'string';
}

export function rewriteCard(input: unknown, r: CardRewrite): Obj {
  if (!isObj(input)) throw new TypeError('the agent card is not a JSON object');
  const card: Obj = structuredClone(input);
  delete card.signatures;

  if (Array.isArray(card.supportedInterfaces)) {
    card.supportedInterfaces = card.supportedInterfaces.flatMap((i: unknown) => {
      if (!isObj(i) || typeof i.url !== 'string') return [];
      if (isGrpc(i.protocolBinding)) return rewriteGrpcInterface(i, i.url, r);
      const url = rewriteEndpoint(i.url, r);
      return url === null ? [] : [{ ...i, url }];
    });
  }
  const legacy = isLegacyCard(card);
  if (legacy) {
    const url = isGrpc(card.preferredTransport) ? null : rewriteEndpoint(card.url as string, r);
    card.url = url ?? r.gatewayBase;
    if (url === null) card.preferredTransport = 'JSONRPC';
    if (Array.isArray(card.additionalInterfaces)) {
      card.additionalInterfaces = card.additionalInterfaces.flatMap((i: unknown) => {
        if (!isObj(i) || isGrpc(i.transport) || typeof i.url !== 'string') return [];
        const u = rewriteEndpoint(i.url, r);
        return u === null ? [] : [{ ...i, url: u }];
      });
    }
    const schemes = isObj(card.securitySchemes) ? card.securitySchemes : {};
    card.securitySchemes = { ...schemes, [MTLS_SCHEME]: { type: 'mutualTLS', description: MTLS_DESCRIPTION } };
    const reqs = Array.isArray(card.security) ? card.security.filter(isObj) : [];
    card.security = reqs.length === 0 ? [{ [MTLS_SCHEME]: [] }] : reqs.map((q) => ({ ...q, [MTLS_SCHEME]: [] }));
  } else {
    const schemes = isObj(card.securitySchemes) ? card.securitySchemes : {};
    card.securitySchemes = { ...schemes, [MTLS_SCHEME]: { mtlsSecurityScheme: { description: MTLS_DESCRIPTION } } };
    const reqs = Array.isArray(card.securityRequirements) ? card.securityRequirements.filter(isObj) : [];
    const withMtls = (q: Obj): Obj => ({ ...q, schemes: { ...(isObj(q.schemes) ? q.schemes : {}), [MTLS_SCHEME]: { list: [] } } });
    card.securityRequirements = reqs.length === 0 ? [withMtls({})] : reqs.map(withMtls);
  }
  return card;
}
