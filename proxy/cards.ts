import { CodedError } from '../protocol/errors.js';
import { createHash } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import { isLegacyCard, rewriteCard } from './a2a/card.js';
import { JWKS_PATH, type CardSigner } from './a2a/card-signing.js';
import { checkUpstreamSignatures, type UpstreamSignatureState } from './a2a/upstream-signature.js';
import type { CompiledAgent } from './runtime.js';

/**
 * Discovery: agent cards fetched from upstream through the same mTLS pool, cached, and rewritten per
 * caller-visible host. Upstream revalidation uses the upstream's ETag (If-None-Match); the caller gets
 * our own ETag over the rewritten card (a rewrite changes the bytes) and a 304 when it matches.
 *
 * The SDK serves a different card shape by `A2A-Version` (v1.0, or a v0.3 hybrid when the header is
 * absent or 0.x), so the cache is keyed by agent and version class, and the version header is forwarded.
 *
 * Every card the caller gets is signed by the gateway (a2a/card-signing.ts); the agent's own signatures
 * are checked once per fetch (a2a/upstream-signature.ts) and a card whose signature is invalid is refused.
 * A signed presentation is kept per fetched card and caller-visible base (a few), so a card request
 * signs only when the card or the host changed.
 */
const DEFAULT_TTL_MS = 60_000;
const MAX_TTL_MS = 3_600_000;
export const MAX_CARD_BYTES = 256 * 1024;
const MAX_JWKS_BYTES = 64 * 1024;
/** presentations kept per fetched card (one per Host spelling callers use; a new one past this clears them) */
const MAX_PRESENTED = 8;
/** agents' key sets kept (a card naming a new `jku` each time cannot grow this past it) */
const MAX_KEY_SETS = 256;

/** A card as fetched from the agent, with what the gateway made of its own signatures. */
export interface FetchedCard {
  card: Record<string, unknown>;
  upstreamSignature: UpstreamSignatureState;
}

interface Entry {
  upstream: CompiledAgent['upstream'];
  fetched: FetchedCard;
  etag: string | undefined;
  expires: number;
}

export interface PresentedCard {
  json: string;
  etag: string;
  card: Record<string, unknown>;
}

export type CardErrorCode = 'upstream_status' | 'invalid_card' | 'fetch_failed' | 'card_signature_invalid';

export class CardError extends CodedError<CardErrorCode> {
  constructor(message: string, kind: CardErrorCode, options?: { cause?: unknown }) {
    super(kind, message, options);
    this.name = 'CardError';
  }

  /** the code under its older name (discovery.ts classifies fetch failures by it) */
  get kind(): CardErrorCode {
    return this.code;
  }
}

export type VersionClass = '0.3' | '1.0';

export function versionClass(header: string | string[] | undefined): VersionClass {
  const v = Array.isArray(header) ? header[0] : header;
  return v !== undefined && /^\s*[1-9]/.test(v) ? '1.0' : '0.3';
}

export class CardCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<FetchedCard>>();
  private readonly keySets = new Map<string, { upstream: CompiledAgent['upstream']; jwks: Promise<JSONWebKeySet | undefined>; expires: number }>();
  private readonly presented = new WeakMap<FetchedCard, Map<string, Promise<PresentedCard>>>();

  constructor(
    private readonly now: () => number,
    readonly signer: CardSigner,
  ) {}

  /** The upstream card (as parsed JSON), from cache when fresh. */
  async get(agent: CompiledAgent, version: VersionClass, legacyPath = false): Promise<FetchedCard> {
    const key = `${agent.name}\u0001${version}\u0001${legacyPath ? 1 : 0}`;
    const e = this.entries.get(key);
    if (e && e.upstream === agent.upstream && e.expires > this.now()) return e.fetched;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.fetch(agent, version, legacyPath, e && e.upstream === agent.upstream ? e : undefined, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** The card as the caller sees it: rewritten for `gatewayBase` (`https://<host>/a2a/<agent>`) and signed. */
  async present(agent: CompiledAgent, version: VersionClass, legacyPath: boolean, gatewayBase: string): Promise<PresentedCard> {
    const fetched = await this.get(agent, version, legacyPath);
    let byBase = this.presented.get(fetched);
    if (byBase === undefined) this.presented.set(fetched, (byBase = new Map<string, Promise<PresentedCard>>()));
    let p = byBase.get(gatewayBase);
    if (p === undefined) {
      if (byBase.size >= MAX_PRESENTED) byBase.clear();
      p = presentCard(fetched, agent, gatewayBase, this.signer);
      byBase.set(gatewayBase, p);
      p.catch(() => byBase.delete(gatewayBase));
    }
    return p;
  }

  /** What to make of the agent's own signatures on `card` (the extended card's path asks per call). */
  upstreamSignature(agent: CompiledAgent, card: Record<string, unknown>): Promise<UpstreamSignatureState> {
    return checkUpstreamSignatures(card, (jku) => this.agentKeySet(agent, jku));
  }

  /** The agent's key set at `jku` when `jku` is on the agent's own origin, fetched through its mTLS pool. */
  private agentKeySet(agent: CompiledAgent, jku: string | undefined): Promise<JSONWebKeySet | undefined> {
    if (jku === undefined) return Promise.resolve(undefined);
    let u: URL;
    try {
      u = new URL(jku);
    } catch {
      return Promise.resolve(undefined);
    }
    if (u.origin !== agent.spec.origin) return Promise.resolve(undefined);
    const key = `${agent.name}\u0001${u.pathname}${u.search}`;
    const hit = this.keySets.get(key);
    if (hit && hit.upstream === agent.upstream && hit.expires > this.now()) return hit.jwks;
    const jwks = fetchKeySet(agent, u.pathname + u.search);
    if (this.keySets.size >= MAX_KEY_SETS) this.keySets.clear();
    this.keySets.set(key, { upstream: agent.upstream, jwks, expires: this.now() + DEFAULT_TTL_MS });
    return jwks;
  }

  private async fetch(agent: CompiledAgent, version: VersionClass, legacyPath: boolean, stale: Entry | undefined, key: string): Promise<FetchedCard> {
    const path = agent.basePath + (legacyPath ? '/.well-known/agent.json' : '/.well-known/agent-card.json');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (version === '1.0') headers['a2a-version'] = '1.0';
    if (stale?.etag) headers['if-none-match'] = stale.etag;
    let r;
    try {
      r = await agent.upstream.fetch(path, headers, { maxBytes: MAX_CARD_BYTES });
    } catch (e) {
      throw new CardError(`could not fetch the agent card of "${agent.name}"`, 'fetch_failed', { cause: e });
    }
    const ttl = ttlOf(r.headers['cache-control']);
    if (r.status === 304 && stale) {
      this.entries.set(key, { ...stale, expires: this.now() + ttl });
      return stale.fetched;
    }
    if (r.status !== 200) throw new CardError(`the agent "${agent.name}" answered its card request with HTTP ${r.status}`, 'upstream_status');
    const card = parseCard(r.body, agent.name);
    const fetched: FetchedCard = { card, upstreamSignature: await this.checked(agent, card) };
    const etag = typeof r.headers.etag === 'string' ? r.headers.etag : undefined;
    this.entries.set(key, { upstream: agent.upstream, fetched, etag, expires: this.now() + ttl });
    return fetched;
  }

  /** the upstream signature state; throws CardError when it is invalid */
  async checked(agent: CompiledAgent, card: Record<string, unknown>): Promise<UpstreamSignatureState> {
    let state = await this.upstreamSignature(agent, card);
    // A v0.3-shaped card from a v1.0 agent is a translation that keeps the v1.0 card's signatures
    // (@a2a-js/sdk's legacy compatibility does exactly this), so they cannot verify over what is served:
    // such a card is served as 'unverified', never as 'verified'. A v1.0 card that fails is refused.
    if (state === 'invalid' && isLegacyCard(card)) state = 'unverified';
    if (state === 'invalid')
      throw new CardError(
        `the agent card of "${agent.name}" carries a signature that does not verify with the agent's own key set: the gateway does not pass it on`,
        'card_signature_invalid',
      );
    return state;
  }
}

/** A card body as a JSON object, or CardError('invalid_card'). */
export function parseCard(body: Buffer, agentName: string): Record<string, unknown> {
  if (body.length > MAX_CARD_BYTES) throw new CardError(`the agent card of "${agentName}" is larger than ${MAX_CARD_BYTES} bytes`, 'invalid_card');
  let card: unknown;
  try {
    card = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new CardError(`the agent card of "${agentName}" is not valid JSON`, 'invalid_card', { cause: e });
  }
  if (typeof card !== 'object' || card === null || Array.isArray(card))
    throw new CardError(`the agent card of "${agentName}" is not a JSON object`, 'invalid_card');
  return card as Record<string, unknown>;
}

async function fetchKeySet(agent: CompiledAgent, path: string): Promise<JSONWebKeySet | undefined> {
  try {
    const r = await agent.upstream.fetch(path, { accept: 'application/json' }, { maxBytes: MAX_JWKS_BYTES });
    if (r.status !== 200 || r.body.length > MAX_JWKS_BYTES) return undefined;
    const v = JSON.parse(r.body.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && Array.isArray((v as { keys?: unknown }).keys) ? (v as JSONWebKeySet) : undefined;
  } catch {
    return undefined;
  }
}

function ttlOf(cc: string | string[] | undefined): number {
  const v = Array.isArray(cc) ? cc.join(',') : cc;
  if (!v) return DEFAULT_TTL_MS;
  if (/no-store|no-cache/.test(v)) return 0;
  const m = /max-age=(\d+)/.exec(v);
  return m ? Math.min(Number(m[1]) * 1000, MAX_TTL_MS) : DEFAULT_TTL_MS;
}

/** The origin part of `https://<host>/a2a/<agent>`: where the gateway's key set is (`jku`). */
function originOf(gatewayBase: string): string {
  const i = gatewayBase.indexOf('/a2a/');
  return i < 0 ? gatewayBase : gatewayBase.slice(0, i);
}

/**
 * A card rewritten for `gatewayBase` and signed by the gateway. The protected header names the agent's
 * SPIFFE ID and what became of its own signature (a2a/upstream-signature.ts).
 */
export async function signedCard(
  card: Record<string, unknown>,
  upstreamSignature: UpstreamSignatureState,
  agent: CompiledAgent,
  gatewayBase: string,
  signer: CardSigner,
): Promise<Record<string, unknown>> {
  const rewritten = rewriteCard(card, {
    gatewayBase,
    upstreamBasePath: agent.basePath,
    grpc: agent.grpcSpec === undefined ? undefined : { agent: agent.name },
  });
  return signer.sign(rewritten, {
    jku: originOf(gatewayBase) + JWKS_PATH,
    extra: { tollgate_agent: agent.config.id, tollgate_upstream_signature: upstreamSignature },
  });
}

/** The card as the caller should see it: rewritten for `gatewayBase`, signed, with its JSON text and ETag. */
export async function presentCard(fetched: FetchedCard, agent: CompiledAgent, gatewayBase: string, signer: CardSigner): Promise<PresentedCard> {
  const card = await signedCard(fetched.card, fetched.upstreamSignature, agent, gatewayBase, signer);
  const json = JSON.stringify(card);
  const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
  return { json, etag, card };
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** `https://<host the caller used>` when the Host header is a plain host[:port]; otherwise the fallback. */
export function gatewayOrigin(hostHeader: string | undefined, fallback: string): string {
  return hostHeader !== undefined && HOST.test(hostHeader) ? `https://${hostHeader}` : fallback;
}

/** If-None-Match matches our ETag (a list, or '*')? */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
