/**
 * An HTTPS server for an agent, speaking mTLS with the agent's SVID:
 *  - the TLS layer requires a client certificate chaining to the bundle (requestCert + rejectUnauthorized);
 *  - each connection's peer is then validated as an SVID (usage 'client', read from DER) and its ID must
 *    match `allowedCallers` (exact IDs or "spiffe://td/path/*" prefixes) — otherwise every request on it
 *    gets 403 and the connection is closed;
 *  - on rotation the certificate is swapped with `setSecureContext` and the FULL option set (an omitted `ca`
 *    would silently fall back to the public roots); open connections stay up;
 *  - a request from the gateway (an ID in the reserved `spiffe://<td>/tollgate/` namespace) must carry the
 *    gateway's `x-forwarded-client-cert` naming it, and a `tollgate-delegation` context (unless
 *    `requireDelegation: false`; a push, marked `tollgate-push: 1` by the gateway, needs no context): without them the handler's onward calls would start a fresh root task,
 *    outside the loop, depth and budget checks, so such a request is refused with 400. The gateway's own
 *    agent-card fetches carry neither and are exempt (a card GET starts no work);
 *  - inbound `tollgate-delegation` / `traceparent` headers become the delegation context of the handler.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { constants as cryptoConstants } from 'node:crypto';
import { validateSvid, type ValidatedSvid } from '../certs/svid.js';
import { parseSpiffeId } from '../certs/spiffe-id.js';
import { BootstrapError } from './errors.js';
import type { AgentIdentity } from './identity.js';
import type { SvidMaterial } from './material.js';
import { chainFromPeerCertificate } from './mtls-fetch.js';
import { delegationFromHeaders, runWithDelegation } from './delegation.js';
import { RevocationFeed, type RevocationView } from './revocations.js';
import { PUSH_HEADER } from '../protocol/push.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface AgentServerOptions {
  /** SPIFFE IDs allowed to call, or prefixes ending in "/*" (e.g. the gateway's ID) */
  allowedCallers: string[];
  /** default 0 (a free port) */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  now?: () => number;
  /**
   * refuse a request from the gateway without a `tollgate-delegation` context (default true: a Tollgate
   * gateway sends one with every call it forwards). `x-forwarded-client-cert` is always required from it.
   */
  requireDelegation?: boolean;
  /**
   * Where revocations come from, checked on every request (a revoked gateway certificate is refused on an
   * open keep-alive connection too). Default: when the identity has a control server, a RevocationFeed
   * polling it every `revocationPollMs`; `false` turns the check off.
   */
  revocations?: RevocationView | false;
  /** poll interval of the default feed (ms, default 5000) */
  revocationPollMs?: number;
}

export interface AgentServer {
  server: https.Server;
  port: number;
  /** https://host:port */
  url: string;
  /** stop accepting; idle keep-alive connections close now, busy ones after their response or `graceMs` */
  close(graceMs?: number): Promise<void>;
}

type PeerCheck = { ok: true; svid: ValidatedSvid } | { ok: false; reason: string };

/** Pure: compile allowedCallers into a matcher. Throws on a malformed entry or an empty list. */
export function callerMatcher(allowed: readonly string[]): (id: string) => boolean {
  if (allowed.length === 0) throw new BootstrapError('invalid_argument', 'allowedCallers is empty: nobody could call this agent; list the gateway SPIFFE ID');
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of allowed) {
    const isPrefix = entry.endsWith('/*');
    let id: string;
    try {
      id = parseSpiffeId(isPrefix ? entry.slice(0, -2) : entry).uri;
    } catch (e) {
      throw new BootstrapError('invalid_argument', `allowedCallers: ${(e as Error).message}`);
    }
    if (isPrefix) prefixes.push(`${id}/`);
    else exact.add(id);
  }
  return (id) => exact.has(id) || prefixes.some((p) => id.startsWith(p));
}

const peers = new WeakMap<TLSSocket, PeerCheck>();

/** The gateway's reserved path in every trust domain (the CA issues nothing else under it). */
const GATEWAY_NAMESPACE = '/tollgate/';
const CARD_PATHS = ['/.well-known/agent-card.json', '/.well-known/agent.json'];

function refuse(res: ServerResponse, status: number, error: string, reason: string, close: boolean): void {
  const body = JSON.stringify({ error, reason });
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/** Pure: what is wrong with the identity headers of a request from the gateway `gatewayId`, or undefined. */
export function gatewayHeadersProblem(
  req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>,
  gatewayId: string,
  requireDelegation: boolean,
): string | undefined {
  if (req.method === 'GET' || req.method === 'HEAD') {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    if (CARD_PATHS.some((p) => pathname.endsWith(p))) return undefined;
  }
  const xfcc = req.headers['x-forwarded-client-cert'];
  if (xfcc === undefined) {
    return 'the request came from the gateway without x-forwarded-client-cert: it names the caller, and without it this agent cannot tell on whose behalf it works (refused rather than started as a new task)';
  }
  if (typeof xfcc !== 'string' || xfcc.includes(',') || !xfcc.startsWith(`By=${gatewayId};URI=spiffe://`)) {
    return `x-forwarded-client-cert must be one value "By=${gatewayId};URI=<caller>", as the gateway sets it`;
  }
  // a push (protocol/push.ts) reports on a task; it is no delegation and carries no context for the receiver
  if (requireDelegation && req.headers['tollgate-delegation'] === undefined && req.headers[PUSH_HEADER] !== '1') {
    return 'the request came from the gateway without a tollgate-delegation context: onward calls would start a new root task outside the loop and budget checks, so it is refused';
  }
  return undefined;
}

/** The validated caller of a request handled by createAgentServer (undefined for other servers). */
export function peerOf(req: IncomingMessage): ValidatedSvid | undefined {
  const check = peers.get(req.socket as TLSSocket);
  return check?.ok ? check.svid : undefined;
}

function contextOptions(m: SvidMaterial) {
  return { key: m.keyPem, cert: m.certChainPem, ca: m.bundlePem, minVersion: 'TLSv1.2' as const, secureOptions: cryptoConstants.SSL_OP_NO_TICKET };
}

export async function createAgentServer(app: RequestHandler, identity: AgentIdentity, opts: AgentServerOptions): Promise<AgentServer> {
  const allowed = callerMatcher(opts.allowedCallers);
  const now = opts.now ?? Date.now;
  const requireDelegation = opts.requireDelegation ?? true;
  const gatewayPrefix = `spiffe://${identity.trustDomain}${GATEWAY_NAMESPACE}`;
  const isGateway = (svid: ValidatedSvid) => svid.id.uri.startsWith(gatewayPrefix);
  let feed: RevocationFeed | undefined;
  let revocations: RevocationView | undefined;
  if (opts.revocations !== undefined) revocations = opts.revocations === false ? undefined : opts.revocations;
  else if (identity.server !== undefined) revocations = feed = new RevocationFeed(identity, { intervalMs: opts.revocationPollMs }).start();

  const checkPeer = (socket: TLSSocket): PeerCheck => {
    try {
      const svid = validateSvid({
        chain: chainFromPeerCertificate(socket.getPeerCertificate(true)),
        bundle: identity.bundleDer(),
        now: now(),
        trustDomain: identity.trustDomain,
        usage: 'client',
      });
      if (!allowed(svid.id.uri)) return { ok: false, reason: `caller ${svid.id.uri} is not allowed to call ${identity.spiffeId}` };
      return { ok: true, svid };
    } catch (e) {
      return { ok: false, reason: `client certificate rejected: ${(e as Error).message}` };
    }
  };

  const server = https.createServer({ ...contextOptions(identity.material), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const socket = req.socket as TLSSocket;
    let check = peers.get(socket);
    if (!check) {
      check = checkPeer(socket);
      peers.set(socket, check);
    }
    // A keep-alive connection can outlive the caller's certificate: re-check the expiry per request.
    if (check.ok && now() > check.svid.notAfter) check = { ok: false, reason: 'client certificate expired during the connection' };
    // and revocation, per request: a kept-alive connection from a revoked gateway must not go on working
    if (check.ok && revocations !== undefined && revocations.isRevoked(check.svid.serial, check.svid.id.uri)) {
      check = { ok: false, reason: `the client certificate ${check.svid.serial} of ${check.svid.id.uri} is revoked` };
    }
    if (!check.ok) {
      refuse(res, 403, 'forbidden', check.reason, true);
      return;
    }
    if (isGateway(check.svid)) {
      const missing = gatewayHeadersProblem(req, check.svid.id.uri, requireDelegation);
      if (missing !== undefined) {
        refuse(res, 400, 'bad_request', missing, false);
        return;
      }
    }
    runWithDelegation(delegationFromHeaders(req.headers), () => app(req, res));
  });
  // Validate once per connection, at handshake time, not per request.
  server.on('secureConnection', (socket: TLSSocket) => peers.set(socket, checkPeer(socket)));
  server.on('tlsClientError', () => {
    /* callers without a certificate from our bundle fail the handshake: nothing to serve */
  });

  const onRotated = (m: SvidMaterial) => server.setSecureContext(contextOptions(m));
  identity.on('rotated', onRotated);
  server.on('close', () => {
    identity.off('rotated', onRotated);
    feed?.stop();
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => {
      feed?.stop();
      reject(e);
    });
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  return {
    server,
    port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), graceMs).unref();
      }),
  };
}
