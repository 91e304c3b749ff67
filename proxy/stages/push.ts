/**
 * Stage "push": push notifications go through the gateway (protocol/push.ts, a2a/push-config.ts).
 *
 *  - uninspectableBody: before authorize, a body the gateway cannot read as the callee will (Content-Encoding,
 *    a charset other than UTF-8, a byte order mark) is refused (415): neither its method nor its push config
 *    could be checked.
 *  - pushConfigStage: after authorize, on an A2A call with a body: a push-config URL in it must be the
 *    gateway's callback route naming the caller (else 400 push_url_not_gateway / 403 push_receiver_not_caller). The plain call pays two header reads and two
 *    Buffer.indexOf.
 *  - pushRoute / pushBody: /a2a-push/<receiver>/<rest> is a POST to the receiver's push endpoint (config
 *    agents.<receiver>.push) under the pseudo-method PushNotification; then authorize (sender -> receiver),
 *    limits, governance and forward run as for any call. It cannot be turned into an A2A call on the receiver:
 *    a JSON-RPC body, or a path its REST router would read as a method, is refused.
 *  - reachesPushEndpoint: the other way round, /a2a/<agent>/<rest> cannot reach the agent's push endpoint,
 *    so a push always arrives through the push route, with its policy and the tollgate-push header.
 */
import type { TLSSocket } from 'node:tls';
import { PUSH_HEADER, PUSH_METHOD, PUSH_ROUTE_PREFIX } from '../../protocol/push.js';
import { refusal, RPC_CODE, type Refusal } from '../errors.js';
import type { Exchange } from '../exchange.js';
import type { CompiledAgent } from '../runtime.js';
import { methodFromRest, parseJsonRpc, UNKNOWN_METHOD, type CallMethod } from '../a2a/methods.js';
import { decidePushUrl, mayCarryPushConfig, pushUrlsIn, type GatewayAddress } from '../a2a/push-config.js';
import { callerVisibleOrigin } from '../discovery.js';

const UTF8 = /^\s*"?utf-?8"?\s*$/i;

/** The charset a Content-Type names, lower-case ('' when it names none). */
function charsetOf(ct: string): string {
  const i = ct.toLowerCase().indexOf('charset=');
  if (i < 0) return '';
  const end = ct.indexOf(';', i);
  return ct.slice(i + 8, end < 0 ? undefined : end);
}

/** Why the callee could read this body differently from the gateway, or undefined. */
function unreadable(ex: Exchange): string | undefined {
  const enc = ex.req.headers['content-encoding'];
  if (enc !== undefined && enc.trim().toLowerCase() !== 'identity') return `Content-Encoding "${enc}"`;
  const ct = ex.req.headers['content-type'];
  if (ct !== undefined && ct.length > 16 && ct.includes('harset') && !ct.endsWith('charset=utf-8')) {
    const cs = charsetOf(ct);
    if (cs !== '' && !UTF8.test(cs)) return `charset "${cs.trim()}"`;
  }
  // the callee's body parser drops a UTF-8 byte order mark; the gateway's method detection does not
  const b = ex.body!;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'a byte order mark';
  return undefined;
}

function gatewayAddress(ex: Exchange): GatewayAddress {
  const names = ex.rt.config.serverNames;
  const hosts = new Set(names.map((n) => (n.startsWith('[') ? n.slice(1, -1) : n).toLowerCase()));
  const ports: number[] = [];
  const local = (ex.req.socket as TLSSocket).localPort;
  if (local) ports.push(local);
  const listen = ex.rt.config.listen.proxy;
  const lp = Number(listen.slice(listen.lastIndexOf(':') + 1));
  if (lp > 0) ports.push(lp);
  // the Host the caller used, when it names the gateway (a port mapped in front of it)
  const host = ex.req.headers.host;
  if (host !== undefined) {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host);
    if (m !== null && hosts.has(m[1].replace(/^\[|\]$/g, '').toLowerCase())) ports.push(m[2] === undefined ? 443 : Number(m[2]));
  }
  return { hosts, ports, origin: callerVisibleOrigin(ex.req, names) };
}

function parseBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined; // not JSON: the callee cannot read a push config from it either
  }
}

/**
 * A body the callee could read differently from the gateway (415), checked before authorize: neither the
 * method policy is decided on nor a push config in it could be trusted. Undefined: readable.
 */
export function uninspectableBody(ex: Exchange): Refusal | undefined {
  const why = unreadable(ex);
  if (why === undefined) return undefined;
  return refusal(
    415,
    RPC_CODE.unsupportedMediaType,
    'body_not_inspectable',
    `the gateway does not accept request bodies with ${why}: send plain UTF-8 JSON (the gateway must read what the agent will read)`,
  );
}

/** Push-config URLs in an A2A call (see the file comment; uninspectableBody ran first). Undefined: nothing to refuse. */
export function pushConfigStage(ex: Exchange): Refusal | undefined {
  const body = ex.body!;
  // the create/set method's v1.0 params are the config itself ({taskId, url}): no key to look for
  const flat = ex.method === 'CreateTaskPushNotificationConfig';
  if (!flat && !mayCarryPushConfig(body)) return undefined;
  const parsed = parseBody(body);
  if (parsed === undefined) return undefined;
  let urls;
  try {
    urls = pushUrlsIn(ex.isRpc ? (parsed as { params?: unknown }).params : parsed, flat);
  } catch {
    return refusal(400, RPC_CODE.badRequest, 'body_not_inspectable', 'the request body is nested too deeply for the gateway to check its push configuration');
  }
  if (urls.length === 0) return undefined;
  const gw = gatewayAddress(ex);
  const agents = ex.rt.agents;
  const hasEndpoint = (name: string) => agents.get(name)?.pushPath !== undefined;
  for (const { url } of urls) {
    const d = decidePushUrl(url, ex.callerAgent, gw, hasEndpoint);
    if (!d.ok) {
      return refusal(d.status, d.status === 403 ? RPC_CODE.forbidden : RPC_CODE.badRequest, d.reason, d.message, {
        data: { url: typeof url === 'string' ? url : null, use: `${gw.origin}${PUSH_ROUTE_PREFIX}${ex.callerAgent ?? '<agent>'}/` },
      });
    }
  }
  return undefined;
}

/** Route kind 'push' (after route): the receiver and what the request may be. Undefined: go on reading the body. */
export function pushRoute(ex: Exchange, receiver: CompiledAgent, rest: string, query: string): Refusal | undefined {
  ex.method = PUSH_METHOD;
  ex.rest = rest;
  ex.query = query;
  if (receiver.pushPath === undefined) {
    return refusal(
      404,
      RPC_CODE.notFound,
      'push_not_configured',
      `agent "${receiver.name}" does not receive push notifications through the gateway (no agents.${receiver.name}.push)`,
    );
  }
  if (ex.httpMethod !== 'POST') {
    return refusal(405, RPC_CODE.methodNotAllowed, 'push_not_post', `a push notification is a POST; ${ex.httpMethod} is not accepted on the push route`);
  }
  return undefined;
}

/** The method of a request on the push route (after the body): PushNotification, or a refusal. */
export function pushBody(ex: Exchange): CallMethod {
  const path = ex.agent!.pushPath! + ex.rest;
  if (methodFromRest('POST', path) !== UNKNOWN_METHOD)
    return { kind: 'refuse', reason: 'push_not_a2a_call', message: `the push route does not forward to the A2A path ${path} of the receiver`, id: null };
  if (ex.body !== undefined) {
    const p = parseJsonRpc(ex.body);
    if (p.kind === 'jsonrpc' || p.kind === 'batch') {
      return { kind: 'refuse', reason: 'push_not_a2a_call', message: 'a push notification is not a JSON-RPC request: A2A calls go to /a2a/<agent>/', id: null };
    }
  }
  ex.setUpstreamHeader(PUSH_HEADER, '1');
  return { kind: 'ok', method: PUSH_METHOD, id: null, isRpc: false, namesTask: false };
}

/** The upstream path of a push: the receiver's push path + rest + query. */
export function pushUpstreamPath(agent: CompiledAgent, rest: string, query: string): string {
  return agent.pushPath! + rest + query;
}

/** Would /a2a/<agent><rest> reach the agent's push endpoint (as its express router matches: any case, escapes decoded)? */
export function reachesPushEndpoint(agent: CompiledAgent, rest: string): boolean {
  const push = agent.pushPathLower!;
  let p = (agent.basePath + rest).toLowerCase();
  if (p.includes('%')) {
    try {
      p = decodeURIComponent(p).toLowerCase();
    } catch {
      // an escape that is not UTF-8: compared as it is
    }
  }
  return p === push || p.startsWith(`${push}/`);
}

export function pushEndpointReserved(agent: CompiledAgent): Refusal {
  return refusal(
    403,
    RPC_CODE.forbidden,
    'push_endpoint_reserved',
    `that path is agent "${agent.name}"'s push endpoint: pushes reach it only through ${PUSH_ROUTE_PREFIX}${agent.name}/ (method PushNotification)`,
  );
}
