import { CodedError } from '../protocol/errors.js';
import { createHash } from 'node:crypto';
import { rewriteCard } from './a2a/card.js';
import type { CompiledAgent } from './runtime.js';

/**
 * Discovery: agent cards fetched from upstream through the same mTLS pool, cached, and rewritten per
 * caller-visible host. Upstream revalidation uses the upstream's ETag (If-None-Match); the caller gets
 * our own ETag over the rewritten card (a rewrite changes the bytes) and a 304 when it matches.
 *
 * The SDK serves a different card shape by `A2A-Version` (v1.0, or a v0.3 hybrid when the header is
 * absent or 0.x), so the cache is keyed by agent and version class, and the version header is forwarded.
 */
const DEFAULT_TTL_MS = 60_000;
const MAX_TTL_MS = 3_600_000;
const MAX_CARD_BYTES = 256 * 1024;

interface Entry {
  upstream: CompiledAgent['upstream'];
  card: unknown;
  etag: string | undefined;
  expires: number;
}

export type CardErrorCode = 'upstream_status' | 'invalid_card' | 'fetch_failed';

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
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(private readonly now: () => number) {}

  /** The upstream card (as parsed JSON), from cache when fresh. */
  async get(agent: CompiledAgent, version: VersionClass, legacyPath = false): Promise<unknown> {
    const key = `${agent.name}\u0001${version}\u0001${legacyPath ? 1 : 0}`;
    const e = this.entries.get(key);
    if (e && e.upstream === agent.upstream && e.expires > this.now()) return e.card;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.fetch(agent, version, legacyPath, e && e.upstream === agent.upstream ? e : undefined, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async fetch(agent: CompiledAgent, version: VersionClass, legacyPath: boolean, stale: Entry | undefined, key: string): Promise<unknown> {
    const path = agent.basePath + (legacyPath ? '/.well-known/agent.json' : '/.well-known/agent-card.json');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (version === '1.0') headers['a2a-version'] = '1.0';
    if (stale?.etag) headers['if-none-match'] = stale.etag;
    let r;
    try {
      r = await agent.upstream.fetch(path, headers);
    } catch (e) {
      throw new CardError(`could not fetch the agent card of "${agent.name}"`, 'fetch_failed', { cause: e });
    }
    const ttl = ttlOf(r.headers['cache-control']);
    if (r.status === 304 && stale) {
      this.entries.set(key, { ...stale, expires: this.now() + ttl });
      return stale.card;
    }
    if (r.status !== 200) throw new CardError(`the agent "${agent.name}" answered its card request with HTTP ${r.status}`, 'upstream_status');
    if (r.body.length > MAX_CARD_BYTES) throw new CardError(`the agent card of "${agent.name}" is larger than ${MAX_CARD_BYTES} bytes`, 'invalid_card');
    let card: unknown;
    try {
      card = JSON.parse(r.body.toString('utf8'));
    } catch (e) {
      throw new CardError(`the agent card of "${agent.name}" is not valid JSON`, 'invalid_card', { cause: e });
    }
    if (typeof card !== 'object' || card === null || Array.isArray(card))
      throw new CardError(`the agent card of "${agent.name}" is not a JSON object`, 'invalid_card');
    const etag = typeof r.headers.etag === 'string' ? r.headers.etag : undefined;
    this.entries.set(key, { upstream: agent.upstream, card, etag, expires: this.now() + ttl });
    return card;
  }
}

function ttlOf(cc: string | string[] | undefined): number {
  const v = Array.isArray(cc) ? cc.join(',') : cc;
  if (!v) return DEFAULT_TTL_MS;
  if (/no-store|no-cache/.test(v)) return 0;
  const m = /max-age=(\d+)/.exec(v);
  return m ? Math.min(Number(m[1]) * 1000, MAX_TTL_MS) : DEFAULT_TTL_MS;
}

/** The card as the caller should see it: rewritten for `gatewayBase`, with its JSON text and ETag. */
export function presentCard(card: unknown, agent: CompiledAgent, gatewayBase: string): { json: string; etag: string; card: Record<string, unknown> } {
  const rewritten = rewriteCard(card, {
    gatewayBase,
    upstreamBasePath: agent.basePath,
    grpc: agent.grpcSpec === undefined ? undefined : { agent: agent.name },
  });
  const json = JSON.stringify(rewritten);
  const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
  return { json, etag, card: rewritten };
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
