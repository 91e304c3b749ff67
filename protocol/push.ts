/**
 * Push notifications through the gateway: the part of the wire contract both ends share (the gateway's
 * callback route and the agent-bootstrap sender/receiver). Pure.
 *
 * A caller that wants task updates pushed to it gives the callee a callback URL on the gateway naming the
 * caller itself as receiver:  https://<gateway>/a2a-push/<receiver agent>/<rest>
 * The callee POSTs the update there with its own SVID; the gateway checks policy (callee -> receiver, method
 * PushNotification), limits and the task's budgets, and forwards it to the receiver's push endpoint
 * (config `agents.<receiver>.push`) with `x-forwarded-client-cert` naming the sender and `tollgate-push: 1`.
 */

/** Path prefix of the callback route (beside `/a2a/<agent>/`, never under it). */
export const PUSH_ROUTE_PREFIX = '/a2a-push/';
/** The pseudo-method of a push, as policy rules (`methods`), metrics and the audit log name it. */
export const PUSH_METHOD = 'PushNotification';
/** Set by the gateway (only) on a forwarded push; stripped from everything callers send. */
export const PUSH_HEADER = 'tollgate-push';

const AGENT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
// RFC 3986 pchar + '/' without '%' (callers give plain segments; the builder does not encode)
const REST_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

/**
 * The callback URL a caller hands to a callee: `<gatewayOrigin>/a2a-push/<receiver>/<rest>`. `gatewayOrigin`
 * is `https://host[:port]` as the callee reaches the gateway; `rest` (optional) is passed on after the
 * receiver's push path, e.g. a task label. Throws on anything that the gateway would refuse.
 */
export function pushCallbackUrl(gatewayOrigin: string, receiver: string, rest = ''): string {
  let origin: URL;
  try {
    origin = new URL(gatewayOrigin);
  } catch {
    throw new TypeError(`gatewayOrigin must be https://host[:port], got ${JSON.stringify(gatewayOrigin)}`);
  }
  if (origin.protocol !== 'https:' || origin.username !== '' || origin.password !== '' || origin.pathname !== '/' || origin.search || origin.hash) {
    throw new TypeError(`gatewayOrigin must be https://host[:port], got ${JSON.stringify(gatewayOrigin)}`);
  }
  if (!AGENT_NAME.test(receiver)) throw new TypeError(`receiver must be a registered agent name, got ${JSON.stringify(receiver)}`);
  const r = rest.startsWith('/') ? rest.slice(1) : rest;
  if (!REST_CHARS.test(r) || r.includes('//') || r.split('/').some((s) => s === '.' || s === '..')) {
    throw new TypeError(`rest must be plain path segments (no "..", "//", "%" or spaces), got ${JSON.stringify(rest)}`);
  }
  return `${origin.origin}${PUSH_ROUTE_PREFIX}${receiver}/${r}`;
}
