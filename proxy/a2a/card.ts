/**
 * Agent card rewriting for discovery through the gateway. Pure.
 *
 * - Every endpoint URL (v0.3 `url`, `additionalInterfaces[].url`; v1.0 `supportedInterfaces[].url`) becomes
 *   `<gateway route>` + the endpoint's path with the agent's upstream base path removed, so it resolves to
 *   the same upstream endpoint through the gateway (and the path is never doubled).
 * - Field names are read in either JSON spelling (proto JSON accepts both): `supportedInterfaces` and
 *   `supported_interfaces`, `protocolBinding` and `protocol_binding`, and so on; what the gateway adds (the
 *   mTLS scheme) is written in the spelling the card already uses.
 * - v1.0 gRPC interfaces (`protocolBinding: GRPC`, protocolVersion 1.x) are kept when the agent has a gRPC
 *   upstream (agents.<name>.grpc, `grpc` below): the url becomes the gateway's own host:port (an `https://`
 *   url stays one) and the tenant names the agent, `<agent>` or `<agent>/<the agent's tenant>` (the gateway
 *   routes gRPC calls by it and maps it back: proxy/grpc/wire.ts). Other gRPC interfaces (no gRPC upstream,
 *   v0.3) are dropped: the gateway cannot carry them, and a card it signs never points around it.
 * - `signatures` are dropped: a JWS over the original card is broken by any rewrite. The caller gets the
 *   gateway's own signature instead (card-signing.ts).
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

/** the keys of a field present on `o`, camelCase first (both when a card carries both spellings) */
function keysOf(o: Obj, camel: string, snake: string): string[] {
  const out: string[] = [];
  if (camel in o) out.push(camel);
  if (snake !== camel && snake in o) out.push(snake);
  return out;
}

const SNAKE_MARKERS = [
  'supported_interfaces',
  'additional_interfaces',
  'preferred_transport',
  'security_schemes',
  'security_requirements',
  'default_input_modes',
];
const CAMEL_MARKERS = ['supportedInterfaces', 'additionalInterfaces', 'preferredTransport', 'securitySchemes', 'securityRequirements', 'defaultInputModes'];

/** the card is written in proto field names (snake_case) rather than JSON names (camelCase) */
export function isSnakeCase(card: Obj): boolean {
  return SNAKE_MARKERS.some((k) => k in card) && !CAMEL_MARKERS.some((k) => k in card);
}

/** v0.3 (or the SDK's hybrid card served to v0.3 clients) has a card-level `url`. */
export function isLegacyCard(card: Obj): boolean {
  return typeof card.url === 'string';
}

/** A v1.0 GRPC interface through the gateway: its host:port, the agent named in the tenant (or none: dropped). */
function rewriteGrpcInterface(i: Obj, url: string, r: CardRewrite): Obj[] {
  const version = i.protocolVersion ?? i.protocol_version;
  if (r.grpc === undefined || typeof version !== 'string' || !/^1(\.|$)/.test(version)) return [];
  const authority = new URL(r.gatewayBase).host;
  const own = typeof i.tenant === 'string' && i.tenant.length > 0 ? `/${i.tenant}` : '';
  return [{ ...i, url: url.startsWith('https://') ? `https://${authority}` : authority, tenant: r.grpc.agent + own }];
}

/**
 * One interface entry: its URL to the gateway route; a v1.0 gRPC one (`v1`) through the gateway's gRPC
 * binding; dropped when the gateway cannot carry it.
 */
function rewriteInterface(i: unknown, bindingKeys: readonly string[], r: CardRewrite, v1: boolean): Obj[] {
  if (!isObj(i) || typeof i.url !== 'string') return [];
  if (bindingKeys.some((k) => isGrpc(i[k]))) return v1 ? rewriteGrpcInterface(i, i.url, r) : [];
  const url = rewriteEndpoint(i.url, r);
  return url === null ? [] : [{ ...i, url }];
}

export function rewriteCard(input: unknown, r: CardRewrite): Obj {
  if (!isObj(input)) throw new TypeError('the agent card is not a JSON object');
  const card: Obj = structuredClone(input);
  delete card.signatures;
  const snake = isSnakeCase(card);

  for (const k of keysOf(card, 'supportedInterfaces', 'supported_interfaces')) {
    const list = card[k];
    if (Array.isArray(list)) card[k] = list.flatMap((i: unknown) => rewriteInterface(i, ['protocolBinding', 'protocol_binding'], r, true));
  }
  // every spelling present gets the mTLS scheme (a card carrying both must not leave one without it)
  const present = (camel: string, snakeKey: string) => {
    const ks = keysOf(card, camel, snakeKey);
    return ks.length > 0 ? ks : [snake ? snakeKey : camel];
  };
  const schemeKeys = present('securitySchemes', 'security_schemes');
  const objAt = (k: string): Obj => {
    const v = card[k];
    return isObj(v) ? v : {};
  };
  const listAt = (k: string): Obj[] => (Array.isArray(card[k]) ? (card[k] as unknown[]).filter(isObj) : []);
  if (isLegacyCard(card)) {
    // a v0.3 main endpoint over gRPC cannot be carried: the card points at the gateway's JSON-RPC route instead
    const preferred = keysOf(card, 'preferredTransport', 'preferred_transport');
    const url = preferred.some((k) => isGrpc(card[k])) ? null : rewriteEndpoint(card.url as string, r);
    card.url = url ?? r.gatewayBase;
    if (url === null) for (const k of preferred.length > 0 ? preferred : [snake ? 'preferred_transport' : 'preferredTransport']) card[k] = 'JSONRPC';
    for (const k of keysOf(card, 'additionalInterfaces', 'additional_interfaces')) {
      const list = card[k];
      if (Array.isArray(list)) card[k] = list.flatMap((i: unknown) => rewriteInterface(i, ['transport'], r, false));
    }
    for (const k of schemeKeys) card[k] = { ...objAt(k), [MTLS_SCHEME]: { type: 'mutualTLS', description: MTLS_DESCRIPTION } };
    const reqs = listAt('security');
    card.security = reqs.length === 0 ? [{ [MTLS_SCHEME]: [] }] : reqs.map((q) => ({ ...q, [MTLS_SCHEME]: [] }));
  } else {
    const scheme = { [snake ? 'mtls_security_scheme' : 'mtlsSecurityScheme']: { description: MTLS_DESCRIPTION } };
    for (const k of schemeKeys) card[k] = { ...objAt(k), [MTLS_SCHEME]: scheme };
    const withMtls = (q: Obj): Obj => ({ ...q, schemes: { ...(isObj(q.schemes) ? q.schemes : {}), [MTLS_SCHEME]: { list: [] } } });
    for (const k of present('securityRequirements', 'security_requirements')) {
      const reqs = listAt(k);
      card[k] = reqs.length === 0 ? [withMtls({})] : reqs.map(withMtls);
    }
  }
  return card;
}
