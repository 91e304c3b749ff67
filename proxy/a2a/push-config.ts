/**
 * Push-notification configs inside A2A requests, and what the gateway accepts as a push URL. Pure.
 *
 * A caller can tell a callee where to push task updates: inline in SendMessage / SendStreamingMessage
 * (v0.3 `configuration.pushNotificationConfig`, v1.0 `configuration.taskPushNotificationConfig`, and the
 * snake_case spellings a proto3 JSON parser also accepts), or with the push-config methods (v0.3
 * `tasks/pushNotificationConfig/set` `{pushNotificationConfig: {url}}`, v1.0 CreateTaskPushNotificationConfig
 * `{taskId, url}`), over JSON-RPC or HTTP+JSON. The callee's push sender then POSTs wherever that URL says.
 * The only URL the gateway lets through is its own callback route naming the caller as receiver
 * (protocol/push.ts), so every push comes back through the gateway's identity, policy and limits.
 *
 * Cost on the request path: mayCarryPushConfig is two Buffer.indexOf over a body already in memory; only a
 * body that passes it is parsed, and then walked whole, so no nesting or spelling of the key escapes.
 */
import { PUSH_ROUTE_PREFIX } from '../../protocol/push.js';
import { decideRoute } from '../stages/route.js';

const NEEDLE = Buffer.from('otification', 'latin1'); // pushNotificationConfig, push_notification_config, ...
const ESCAPE = Buffer.from('\\u', 'latin1'); // a key can hide any of its letters behind \uXXXX

/**
 * Could this body hold a push config? False only when it certainly does not: every spelling of the key
 * contains "otification", and JSON can only write those letters differently with a \u escape.
 */
export function mayCarryPushConfig(body: Buffer): boolean {
  return body.indexOf(NEEDLE) >= 0 || body.indexOf(ESCAPE) >= 0;
}

/** pushNotificationConfig, taskPushNotificationConfig, their snake_case forms, and plurals */
function isPushKey(k: string): boolean {
  if (k.length < 22 || k.length > 32) return false;
  const n = k.toLowerCase().replaceAll('_', '');
  return n === 'pushnotificationconfig' || n === 'taskpushnotificationconfig' || n === 'pushnotificationconfigs' || n === 'taskpushnotificationconfigs';
}

/** A URL a request names for pushes (as found: maybe not a string). */
export interface FoundUrl {
  url: unknown;
}

/**
 * Every push URL a request carries. `root` is the JSON-RPC `params` or the REST body; `flat` is true for
 * the create/set method, whose v1.0 params ARE the config (`{taskId, url}`). Walks the whole value: a push
 * config at any depth, under any spelling of the key, counts.
 */
export function pushUrlsIn(root: unknown, flat: boolean): FoundUrl[] {
  const out: FoundUrl[] = [];
  if (flat && isObject(root) && 'url' in root) out.push({ url: root.url });
  walk(root, out, 0);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function addConfig(v: unknown, out: FoundUrl[]): void {
  if (Array.isArray(v)) for (const x of v) addConfig(x, out);
  else if (isObject(v)) {
    if ('url' in v) out.push({ url: v.url });
  } else if (v !== undefined && v !== null) out.push({ url: v }); // a config that is not an object: refused as a URL
}

function walk(v: unknown, out: FoundUrl[], depth: number): void {
  if (depth > 256) throw new RangeError('nesting too deep');
  if (Array.isArray(v)) {
    for (const x of v) walk(x, out, depth + 1);
  } else if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (isPushKey(k)) addConfig(v[k], out);
      walk(v[k], out, depth + 1);
    }
  }
}

/** Where the gateway is reachable, to tell its callback URLs from anything else. */
export interface GatewayAddress {
  /** config serverNames, lower-case, IPv6 without brackets */
  hosts: ReadonlySet<string>;
  /** the ports the gateway is reached on (the one this request came in on, ...) */
  ports: readonly number[];
  /** the origin to suggest in refusals (https://host:port) */
  origin: string;
}

export type PushUrlDecision =
  { ok: true } | { ok: false; status: 400 | 403; reason: 'push_url_not_gateway' | 'push_receiver_not_caller' | 'push_receiver_no_endpoint'; message: string };

const show = (u: unknown) => {
  const s = typeof u === 'string' ? u : (JSON.stringify(u) ?? String(u));
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
};

/**
 * Is `url` the gateway's callback route for the caller? `caller` is the caller's registered agent name
 * (undefined: not a registered agent, so it cannot receive pushes); `pushEndpoint(name)` tells whether a
 * registered agent receives pushes (config agents.<name>.push).
 */
export function decidePushUrl(url: unknown, caller: string | undefined, gw: GatewayAddress, pushEndpoint: (name: string) => boolean): PushUrlDecision {
  const use = `${gw.origin}${PUSH_ROUTE_PREFIX}${caller ?? '<your agent name>'}/`;
  const notGateway = (why: string): PushUrlDecision => ({
    ok: false,
    status: 400,
    reason: 'push_url_not_gateway',
    message: `push notification URL "${show(url)}" ${why}: pushes go through the gateway's callback route; use ${use}<anything>`,
  });
  if (typeof url !== 'string') return notGateway('is not a string');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return notGateway('is not an absolute URL');
  }
  if (u.protocol !== 'https:') return notGateway('is not https');
  if (u.username !== '' || u.password !== '' || u.hash !== '') return notGateway('has user info or a fragment');
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? 443 : Number(u.port);
  if (!gw.hosts.has(host) || !gw.ports.includes(port)) return notGateway('does not point at the gateway');
  // What a sender's URL parser makes of it is what it dials: accept only the form that needs no normalising.
  if (u.href !== url) return notGateway(`is not in canonical form (it would be sent as ${u.href})`);
  const r = decideRoute(u.pathname + u.search, 'POST', () => true);
  if (r.kind !== 'push') return notGateway(r.kind === 'error' ? `has a path the gateway refuses (${r.message})` : `is not under ${PUSH_ROUTE_PREFIX}`);
  if (r.agent !== caller) {
    return {
      ok: false,
      status: 403,
      reason: 'push_receiver_not_caller',
      message:
        caller === undefined
          ? `push notification URL "${show(url)}" names agent "${r.agent}" as receiver, but the caller is not a registered agent: only a registered agent with a push endpoint can receive pushes`
          : `push notification URL "${show(url)}" names agent "${r.agent}" as receiver: a caller can only direct pushes at itself; use ${use}<anything>`,
    };
  }
  if (!pushEndpoint(caller)) {
    return {
      ok: false,
      status: 400,
      reason: 'push_receiver_no_endpoint',
      message: `agent "${caller}" has no push endpoint (config agents.${caller}.push), so the gateway would refuse the callee's pushes: ask an operator to set it`,
    };
  }
  return { ok: true };
}
