import type { JSONWebKeySet } from 'jose';
import canonicalize from 'canonicalize';
import { cardPayload } from './card-signing.js';

/**
 * What the gateway makes of the agent's own card signatures before it replaces them with its own.
 *
 * The gateway never fetches a key from wherever a card points: `jku` is followed only when it is on the
 * agent's own registered origin, and then through the agent's mTLS pool (the agent proved its SPIFFE ID),
 * so a card cannot make the gateway call anything else. Outcomes:
 *   - 'none'        the card carries no signature;
 *   - 'verified'    a signature verifies with a key from the agent's own key set;
 *   - 'unverified'  no key could be had from the agent itself (no `jku`, a `jku` elsewhere, the key set
 *                   unavailable): the gateway cannot tell; its own signature says so
 *                   (`tollgate_upstream_signature`), and it vouches only for having fetched the card from
 *                   the agent over mTLS (`tollgate_agent`);
 *   - 'invalid'     a signature the gateway could check failed (wrong bytes, or a `kid` the agent's own key
 *                   set does not hold, or a malformed entry) and none verified: the card is refused (502
 *                   `card_signature_invalid`) rather than passed on re-signed as if it were fine (a v0.3
 *                   card is the exception, cards.ts CardCache.checked: 'unverified').
 * Signers disagree on what exactly is signed, so a signature is accepted over any of: the spec/SDK payload
 * (cardPayload), plain JCS of the card without `signatures`, or the JS SDK's own canonical form (the card
 * through its v1.0 schema, which is how an @a2a-js/sdk agent's `agentCardSignatureGenerator` signs).
 */
export type UpstreamSignatureState = 'none' | 'verified' | 'unverified' | 'invalid';

/** the agent's key set at `jku`, or undefined when it cannot be had from the agent itself */
export type AgentKeySet = (jku: string | undefined) => Promise<JSONWebKeySet | undefined>;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

let sdkCanonical: ((card: Obj) => string) | undefined;

/** the candidate payloads, base64url-encoded (a JWS signs the encoded form) */
async function payloads(card: Obj): Promise<string[]> {
  const rest: Obj = { ...card };
  delete rest.signatures;
  const out = [cardPayload(card), canonicalize(rest) ?? '{}'];
  try {
    // loaded only when an upstream card is signed (the data plane does not otherwise load the SDK)
    sdkCanonical ??= (await import('@a2a-js/sdk')).canonicalizeAgentCard as unknown as (card: Obj) => string;
    out.push(sdkCanonical(card));
  } catch {
    // a card the SDK's schema cannot read is simply not a candidate
  }
  const { base64url } = await import('jose');
  return [...new Set(out)].map((s) => base64url.encode(s));
}

export async function checkUpstreamSignatures(card: Obj, keySet: AgentKeySet): Promise<UpstreamSignatureState> {
  const sigs = card.signatures;
  if (sigs === undefined || sigs === null || (Array.isArray(sigs) && sigs.length === 0)) return 'none';
  if (!Array.isArray(sigs)) return 'invalid';
  // jose is loaded by the first signed card, not by the gateway's start (see card-signing.ts)
  const { createLocalJWKSet, decodeProtectedHeader, flattenedVerify } = await import('jose');
  let checked = false;
  let candidates: string[] | undefined;
  for (const s of sigs) {
    if (!isObj(s) || typeof s.protected !== 'string' || typeof s.signature !== 'string') return 'invalid';
    let jku: unknown;
    try {
      jku = decodeProtectedHeader({ protected: s.protected }).jku;
    } catch {
      return 'invalid';
    }
    const jwks = await keySet(typeof jku === 'string' ? jku : undefined);
    if (jwks === undefined) continue;
    checked = true;
    const keys = createLocalJWKSet(jwks);
    candidates ??= await payloads(card);
    for (const payload of candidates) {
      try {
        await flattenedVerify({ payload, protected: s.protected, signature: s.signature, header: isObj(s.header) ? s.header : undefined }, keys);
        return 'verified';
      } catch {
        // another payload, or another signature
      }
    }
  }
  return checked ? 'invalid' : 'unverified';
}
