import { createHash, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import canonicalize from 'canonicalize';

/**
 * The gateway's signature on the cards it serves (A2A spec 8.4, "Agent Card Signing").
 *
 * A rewritten card no longer matches the agent's own JWS, so the gateway signs what it serves: a JWS
 * (RFC 7515, flattened: `{protected, signature}` in `signatures`) over the card's canonical payload, with
 * the protected header `{alg: "EdDSA", typ: "JOSE", kid, jku}`. `jku` is the gateway's key set on the
 * listener the caller used (`https://<host>/.well-known/jwks.json`), `kid` the key's RFC 7638 thumbprint.
 * Two Tollgate parameters say what the gateway knows about the card's origin: `tollgate_agent` (the
 * SPIFFE ID the card was fetched from, over mTLS) and `tollgate_upstream_signature` (upstream-signature.ts).
 *
 * The payload (cardPayload): the card without `signatures`, with empty values removed (null, "", [] and
 * {}, recursively, after their contents), serialized with JCS (RFC 8785, the `canonicalize` package).
 * That is the spec's "remove properties with default values" as the official SDKs do it (JS
 * `canonicalizeAgentCard`, Python `_clean_empty`): for a card in the v1.0 schema the SDKs compute the
 * same bytes, so their verifiers accept the gateway's signature. Two consequences, stated plainly:
 * empty values are not covered (e.g. `"list": []` in the mTLS requirement: the card reaches the caller
 * over the gateway's mTLS anyway), and the spec's rule that REQUIRED fields stay even when empty is not
 * followed (the SDKs do not follow it either; the spec's own example keeps `"description": ""`).
 *
 * The key: Ed25519 from a 32-byte seed. The gateway derives the seed from the CA root
 * (`deriveSecret(CARD_SIGNING_PURPOSE)`, HKDF-SHA256), so every replica of a fleet (they share the root)
 * signs with the same key and one key set verifies a card from any of them; nobody without the root can
 * sign. Without a seed (a proxy started on its own, tests) a random key is made per process.
 * Rotation: a new CA root gives a new key by itself; to change the key under the same root, sign with
 * the next purpose ("card-signing v2") and keep publishing the old key (`published`) for as long as
 * callers may hold cards signed with it (the card's Cache-Control max-age, 60 s, plus the caller's own
 * cache), then drop it. A caller meeting an unknown `kid` fetches the key set again.
 */
export const CARD_SIGNING_PURPOSE = 'card-signing v1';
export const JWKS_PATH = '/.well-known/jwks.json';
export const CARD_SIGNATURE_ALG = 'EdDSA';
/** Pseudo-method of the key set (GET /.well-known/jwks.json), for metrics and the audit log. */
export const KEY_SET_METHOD = 'GetCardKeys';

type Obj = Record<string, unknown>;

/** `v` without empty values (null, "", [], {} after their own contents); undefined when nothing is left. */
export function withoutEmpty(v: unknown): unknown {
  if (v === null || v === undefined || v === '') return undefined;
  if (Array.isArray(v)) {
    const out = v.map(withoutEmpty).filter((x) => x !== undefined);
    return out.length > 0 ? out : undefined;
  }
  if (typeof v === 'object') {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v as Obj)) {
      const y = withoutEmpty(x);
      if (y !== undefined) out[k] = y;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return v;
}

/** The bytes a card signature covers: JCS of the card without `signatures` and without empty values. */
export function cardPayload(card: Obj): string {
  const rest: Obj = { ...card };
  delete rest.signatures;
  return canonicalize(withoutEmpty(rest) ?? {}) ?? '{}';
}

// PKCS#8 wrapping of a raw Ed25519 private key (RFC 8410): this prefix, then the 32-byte seed
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function ed25519FromSeed(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new TypeError(`a card-signing seed must be 32 bytes, got ${seed.length}`);
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export interface CardSigningKeys {
  /** the seed the gateway signs with (32 bytes); random when absent */
  seed?: Buffer;
  /** seeds of earlier keys still published for verification (rotation) */
  published?: readonly Buffer[];
}

export interface SignatureContext {
  /** the key set's URL on the listener the caller used */
  jku: string;
  /** extra protected-header parameters (Tollgate's own, e.g. tollgate_agent) */
  extra?: Record<string, string>;
}

export class CardSigner {
  private constructor(
    private readonly key: KeyObject,
    readonly kid: string,
    /** the published key set, as served at JWKS_PATH */
    readonly jwksJson: string,
  ) {}

  static create(keys: CardSigningKeys = {}): Promise<CardSigner> {
    const seeds = [keys.seed ?? randomBytes(32), ...(keys.published ?? [])];
    const jwks: JWK[] = [];
    for (const seed of seeds) {
      // node:crypto exports the JWK, and the RFC 7638 thumbprint of an OKP key is the SHA-256 of its three
      // members in this order (test/e2e/card-keys checks both against jose): jose itself is loaded by the first
      // card signed, not at start (measured: the idle gateway's RSS 1-1.8 MB lower, bench/memory.ts)
      const { crv, kty, x } = createPublicKey(ed25519FromSeed(seed)).export({ format: 'jwk' });
      const jwk: JWK = { crv, kty, x };
      const kid = createHash('sha256').update(JSON.stringify({ crv, kty, x })).digest('base64url');
      if (!jwks.some((k) => k.kid === kid)) jwks.push({ ...jwk, kid, alg: CARD_SIGNATURE_ALG, use: 'sig' });
    }
    return Promise.resolve(new CardSigner(ed25519FromSeed(seeds[0]), jwks[0].kid!, JSON.stringify({ keys: jwks })));
  }

  /** `card` with one signature: the gateway's (any signature it carried is replaced). */
  async sign(card: Obj, ctx: SignatureContext): Promise<Obj> {
    const { FlattenedSign } = await import('jose');
    const jws = await new FlattenedSign(new TextEncoder().encode(cardPayload(card)))
      .setProtectedHeader({ ...ctx.extra, alg: CARD_SIGNATURE_ALG, typ: 'JOSE', kid: this.kid, jku: ctx.jku })
      .sign(this.key);
    return { ...card, signatures: [{ protected: jws.protected, signature: jws.signature }] };
  }
}
