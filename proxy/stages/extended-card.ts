import type { Exchange } from '../exchange.js';
import { CardError, MAX_CARD_BYTES, parseCard, signedCard, type CardCache } from '../cards.js';
import { refusal, RPC_CODE, writeRefusal } from '../errors.js';
import { ClientAbortError } from '../upstream/engine.js';

/**
 * Stage "forward", for the authenticated extended card only (v1.0 JSON-RPC `GetExtendedAgentCard`, REST
 * `GET [/{tenant}]/extendedAgentCard`, v0.3 `agent/getAuthenticatedExtendedCard` and `GET /v1/card`: all
 * one canonical method). Its answer is a card like the public one, so it is not streamed through: the
 * (small, bounded) response is buffered, the card in it rewritten to the gateway's routes and signed by
 * the gateway (the agent's own signature checked first, as for the public card), then sent. Errors from
 * the agent (a JSON-RPC `error`, a non-200 REST answer) pass through as they are.
 *
 * The call has been through identity, route, authorize, limits and governance like any other; governance
 * hears of its response and its end the same way (ex.onResponse / ex.onEnd).
 */
export const EXTENDED_CARD_METHOD = 'GetExtendedAgentCard';

// Conditional requests would let the agent answer 304 about bytes the caller never saw (ours differ);
// an encoded body could not be rewritten.
const DROPPED_REQUEST_HEADERS = new Set(['accept-encoding', 'if-none-match', 'if-modified-since']);
// Headers describing the agent's bytes, not ours.
const DROPPED_RESPONSE_HEADERS = new Set(['content-length', 'etag', 'last-modified', 'content-md5', 'digest', 'content-digest']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** undici's header object as flat raw headers (what the pipeline's response-header stage reads) */
function flatHeaders(h: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(k, x);
    else out.push(k, v);
  }
  return out;
}

export async function forwardExtendedCard(ex: Exchange, cards: CardCache, origin: string): Promise<void> {
  const agent = ex.agent!;
  const headers: string[] = [];
  for (let i = 0; i < ex.forwardHeaders.length; i += 2)
    if (!DROPPED_REQUEST_HEADERS.has(ex.forwardHeaders[i])) headers.push(ex.forwardHeaders[i], ex.forwardHeaders[i + 1]);
  headers.push('accept-encoding', 'identity');

  let status: number;
  let raw: string[];
  let body: Buffer;
  try {
    const r = await agent.upstream.fetch(ex.upstreamPath, headers, { method: ex.httpMethod, body: ex.body, maxBytes: MAX_CARD_BYTES });
    status = r.status;
    raw = flatHeaders(r.headers);
    body = await rewriteAnswer(ex, cards, origin, r.status, r.headers['content-encoding'], r.body);
  } catch (e) {
    if (e instanceof CardError) {
      // the agent answered, but with nothing the gateway will pass on: say why (the outcome is an upstream error)
      const reason = e.code === 'card_signature_invalid' ? e.code : 'invalid_card';
      ex.status = 502;
      ex.onEnd(writeRefusal(ex.res, refusal(502, RPC_CODE.badGateway, reason, e.message), ex.rpcId), e);
    } else {
      ex.onEnd(0, e);
    }
    return;
  }
  if (ex.res.destroyed) {
    ex.onEnd(0, new ClientAbortError());
    return;
  }
  try {
    const out: string[] = [];
    const responded = ex.onResponse(status, raw);
    for (let i = 0; i < responded.length; i += 2) if (!DROPPED_RESPONSE_HEADERS.has(responded[i])) out.push(responded[i], responded[i + 1]);
    out.push('content-length', String(body.length));
    ex.res.writeHead(status, out);
    ex.res.end(ex.httpMethod === 'HEAD' ? undefined : body);
  } catch (e) {
    // e.g. a header value Node refuses to write: the answer is cut, the exchange still ends once
    ex.res.destroy();
    ex.onEnd(0, e);
    return;
  }
  ex.onEnd(body.length, undefined);
}

/** The body for the caller: the card in a successful answer rewritten and signed; anything else as it came. */
async function rewriteAnswer(
  ex: Exchange,
  cards: CardCache,
  origin: string,
  status: number,
  encoding: string | string[] | undefined,
  body: Buffer,
): Promise<Buffer> {
  if (status !== 200 || body.length === 0) return body;
  const agent = ex.agent!;
  if (encoding !== undefined && encoding !== 'identity')
    throw new CardError(`the extended card of "${agent.name}" came content-encoded (${String(encoding)}); the gateway cannot rewrite it`, 'invalid_card');
  const parsed = parseCard(body, agent.name);
  const gatewayBase = `${origin}/a2a/${agent.name}`;
  const sign = async (card: unknown): Promise<Obj> => {
    if (!isObj(card)) throw new CardError(`the extended card of "${agent.name}" is not a JSON object`, 'invalid_card');
    return signedCard(card, await cards.checked(agent, card), agent, gatewayBase, cards.signer);
  };
  if (!ex.isRpc) return Buffer.from(JSON.stringify(await sign(parsed)));
  if (!('result' in parsed)) return body; // a JSON-RPC error: no card in it
  return Buffer.from(JSON.stringify({ ...parsed, result: await sign(parsed.result) }));
}
