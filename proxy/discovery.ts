import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { refusal, RPC_CODE, writeRefusal } from './errors.js';
import { CardCache, CardError, etagMatches, gatewayOrigin, versionClass } from './cards.js';
import { classifyUpstreamError } from './upstream/identity.js';
import type { CompiledAgent } from './runtime.js';
import type { CardSigner } from './a2a/card-signing.js';

/**
 * Discovery responses: one agent's card (GET /a2a/<agent>/.well-known/agent-card.json or agent.json) and
 * the directory (GET /a2a). The pipeline has already decided WHO may see WHAT (same policy as calls);
 * this file fetches, rewrites and answers.
 */
export interface DiscoveryOutcome {
  status: number;
  bytesOut: number;
  decision: 'allow' | 'error';
  reason: string;
  /** set when the upstream card fetch failed (metric kind) */
  upstreamError?: string;
}

/** `https://<host the caller used>`, or the first configured server name when the Host header is odd. */
export function callerVisibleOrigin(req: IncomingMessage, serverNames: readonly string[]): string {
  const port = (req.socket as TLSSocket).localPort;
  return gatewayOrigin(req.headers.host, `https://${serverNames[0]}${port ? `:${port}` : ''}`);
}

export async function serveCard(cards: CardCache, req: IncomingMessage, res: ServerResponse, agent: CompiledAgent, origin: string): Promise<DiscoveryOutcome> {
  try {
    const legacyPath = (req.url ?? '').split('?')[0].endsWith('/agent.json');
    const shown = await cards.present(agent, versionClass(req.headers['a2a-version']), legacyPath, `${origin}/a2a/${agent.name}`);
    const headers = { 'content-type': 'application/json', etag: shown.etag, 'cache-control': 'max-age=60', vary: 'A2A-Version' };
    if (etagMatches(req.headers['if-none-match'], shown.etag)) {
      res.writeHead(304, headers);
      res.end();
      return { status: 304, bytesOut: 0, decision: 'allow', reason: 'ok' };
    }
    const bytesOut = Buffer.byteLength(shown.json);
    res.writeHead(200, { ...headers, 'content-length': bytesOut });
    res.end(req.method === 'HEAD' ? undefined : shown.json);
    return { status: 200, bytesOut, decision: 'allow', reason: 'ok' };
  } catch (e) {
    const kind =
      e instanceof CardError && e.kind === 'fetch_failed'
        ? classifyUpstreamError(e.cause)
        : e instanceof CardError && e.kind === 'card_signature_invalid'
          ? e.kind
          : 'other';
    const r = refusal(502, RPC_CODE.badGateway, kind, e instanceof CardError ? e.message : `could not get the agent card of "${agent.name}"`);
    return { status: 502, bytesOut: writeRefusal(res, r, null), decision: 'error', reason: kind, upstreamError: kind };
  }
}

/** The cards of exactly the agents given (the ones the caller may call), as {agents:[{name,url,card|error}]}. */
export async function serveDirectory(
  cards: CardCache,
  req: IncomingMessage,
  res: ServerResponse,
  visible: readonly CompiledAgent[],
  origin: string,
): Promise<DiscoveryOutcome> {
  const version = versionClass(req.headers['a2a-version']);
  const agents = await Promise.all(
    visible.map(async (a) => {
      const url = `${origin}/a2a/${a.name}`;
      try {
        return { name: a.name, url, card: (await cards.present(a, version, false, url)).card };
      } catch (e) {
        return { name: a.name, url, error: e instanceof CardError ? e.message : 'card unavailable' };
      }
    }),
  );
  const json = JSON.stringify({ agents });
  const bytesOut = Buffer.byteLength(json);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytesOut, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : json);
  return { status: 200, bytesOut, decision: 'allow', reason: 'ok' };
}

/** The gateway's card-signing key set (JWKS): what a caller needs to verify the cards' signatures. */
export function serveKeySet(signer: CardSigner, req: IncomingMessage, res: ServerResponse): DiscoveryOutcome {
  const bytesOut = Buffer.byteLength(signer.jwksJson);
  res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'content-length': bytesOut, 'cache-control': 'max-age=300' });
  res.end(req.method === 'HEAD' ? undefined : signer.jwksJson);
  return { status: 200, bytesOut, decision: 'allow', reason: 'ok' };
}
