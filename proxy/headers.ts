/**
 * Header handling on both legs. Pure.
 *
 * To the callee: hop-by-hop headers (RFC 9110 7.6.1, plus any the Connection header names) are dropped,
 * and so is every identity header a caller could forge: `x-forwarded-client-cert`, anything `x-tollgate-*`,
 * `tollgate-delegation` (the delegation stage sets its own) and `tollgate-push` (set on pushes only). The gateway then states the caller's
 * identity itself: `x-forwarded-client-cert: By=<gateway id>;URI=<caller id>`.
 * To the caller: hop-by-hop headers are dropped, and an upstream-supplied `tollgate-delegation` is never
 * passed back (`tollgate-cost` is).
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);
// tollgate-scope is the caller's instruction to the gateway (attenuation): it is signed into the context, not passed on
// tollgate-push: only the gateway says a request is a push (stages/push.ts sets it on the push route)
const STRIP_TO_UPSTREAM = new Set([
  ...HOP_BY_HOP,
  'host',
  'content-length',
  'x-forwarded-client-cert',
  'tollgate-delegation',
  'tollgate-scope',
  'tollgate-push',
  'expect',
]);
const STRIP_TO_CALLER = new Set([...HOP_BY_HOP, 'tollgate-delegation']);

/** Names a stage may not set through ctx.setUpstreamHeader: the gateway owns them. */
export const RESERVED_UPSTREAM_HEADERS: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'host', 'content-length', 'x-forwarded-client-cert', 'expect']);

function connectionTokens(v: string | undefined): Set<string> | null {
  if (v === undefined) return null;
  // the common values name no other header: skip the split
  const l = v.length;
  if ((l === 10 || l === 5) && (v === 'keep-alive' || v === 'close' || v.toLowerCase() === 'keep-alive' || v.toLowerCase() === 'close')) return null;
  const s = new Set<string>();
  for (const t of v.split(',')) {
    const n = t.trim().toLowerCase();
    if (n && n !== 'close' && n !== 'keep-alive') s.add(n);
  }
  return s.size > 0 ? s : null;
}

/**
 * Headers for the upstream request, flat [name, value, ...]: XFCC, content-length and the stages' own
 * headers first, then the caller's raw headers minus the stripped ones.
 */
export function upstreamRequestHeaders(
  raw: readonly string[],
  connection: string | undefined,
  xfcc: string,
  bodyLength: number,
  extra: readonly string[],
): string[] {
  // The gateway's own headers go first: a receiver that keeps only the first N headers (Node: ~1,000)
  // drops the caller's extras, never the identity, the delegation context or the framing.
  const out: string[] = ['x-forwarded-client-cert', xfcc];
  if (bodyLength > 0) out.push('content-length', String(bodyLength));
  for (let i = 0; i < extra.length; i++) out.push(extra[i]);
  const listed = connectionTokens(connection);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (STRIP_TO_UPSTREAM.has(name)) continue;
    if (name.startsWith('x-tollgate-')) continue; // the bare prefix too: anything in the gateway's namespace
    if (listed !== null && listed.has(name)) continue;
    if (extra.length > 0 && setByStage(extra, name)) continue; // a stage's value replaces the caller's (e.g. traceparent)
    out.push(name, raw[i + 1]);
  }
  return out;
}

function setByStage(extra: readonly string[], name: string): boolean {
  for (let i = 0; i < extra.length; i += 2) if (extra[i] === name) return true;
  return false;
}

/** Response headers for the caller, flat [name, value, ...]; accepts undici's Buffer[] raw headers. */
export function callerResponseHeaders(raw: readonly (Buffer | string)[]): string[] {
  const out: string[] = [];
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    if (STRIP_TO_CALLER.has(name)) {
      if (name === 'connection') listed = connectionTokens(raw[i + 1].toString('latin1'));
      continue;
    }
    out.push(name, raw[i + 1].toString('latin1'));
  }
  if (listed === null) return out;
  // rare: the upstream named more hop-by-hop headers in Connection
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!listed.has(out[i])) kept.push(out[i], out[i + 1]);
  return kept;
}

/** The XFCC value the gateway sets (Envoy format). SPIFFE IDs cannot contain ';', ',' or '"'. */
export function xfccValue(gatewayId: string, callerId: string): string {
  return `By=${gatewayId};URI=${callerId}`;
}
