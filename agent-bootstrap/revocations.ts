/**
 * What an agent server knows about revocations: the CA's revocation log, polled from the identity API
 * (GetRevocations, mTLS with the agent's own SVID) from a cursor, into the same in-memory view the gateway
 * uses (protocol/revocations.ts): two hash lookups per request, no I/O on the request path.
 *
 * Bounded: one poll reads at most MAX_PAGES pages of at most 1,000 events (the CA caps a page); the rest
 * comes at the next poll. Revoked serials are forgotten after their certificate expired. A failed poll
 * keeps the last view and is reported as an 'error' event (only when someone listens); certificates are
 * short-lived, so a CA that stays unreachable only delays revocations up to their expiry.
 */
import { EventEmitter } from 'node:events';
import { RevocationCache, type RevocationEvent } from '../protocol/revocations.js';
import { callGetRevocations } from './client.js';
import { BootstrapError } from './errors.js';
import type { AgentIdentity } from './identity.js';

export interface RevocationView {
  /** sync, O(1): pass ValidatedSvid.serial and ValidatedSvid.id.uri */
  isRevoked(serial: string, spiffeId: string): boolean;
}

export interface RevocationFeedOptions {
  /** control listener HOST:PORT (default: the identity's own) */
  server?: string;
  /** how often to ask (ms, default 5000, at least 100) */
  intervalMs?: number;
  now?: () => number;
}

const MAX_PAGES = 10;

export class RevocationFeed extends EventEmitter implements RevocationView {
  private readonly cache = new RevocationCache();
  private readonly server: string;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private lastOk = 0;

  constructor(
    private readonly identity: AgentIdentity,
    opts: RevocationFeedOptions = {},
  ) {
    super();
    const server = opts.server ?? identity.server;
    if (!server)
      throw new BootstrapError('invalid_argument', 'a revocation feed needs the control listener address: give the identity a server, or pass server');
    const interval = opts.intervalMs ?? 5000;
    if (!Number.isFinite(interval) || interval < 100)
      throw new BootstrapError('invalid_argument', `revocation poll interval must be at least 100 ms, got ${String(opts.intervalMs)}`);
    this.server = server;
    this.intervalMs = interval;
    this.now = opts.now ?? Date.now;
  }

  isRevoked(serial: string, spiffeId: string): boolean {
    return this.cache.isRevoked(serial, spiffeId);
  }

  /** when the last poll succeeded (ms), 0 before the first */
  get lastSuccess(): number {
    return this.lastOk;
  }

  /** poll now, then every intervalMs (timer unref'd: the server keeps the process alive) */
  start(): this {
    if (this.timer) return this;
    const tick = () => {
      void this.pollNow().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.intervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** one poll (concurrent callers share it); never rejects: failures go to 'error' */
  pollNow(): Promise<void> {
    this.polling ??= this.poll().finally(() => (this.polling = null));
    return this.polling;
  }

  private async poll(): Promise<void> {
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const r = await callGetRevocations(this.server, this.identity.material, this.cache.position, { deadlineMs: Math.max(1000, this.intervalMs) });
        this.cache.apply(r.revocations.map(toEvent));
        if (!r.more) break;
      }
      this.lastOk = this.now();
      this.cache.prune(this.now());
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    }
  }
}

function toEvent(m: { seq: number; kind: string; serial: string; spiffeId: string; notAfterUnixMs: number }): RevocationEvent {
  if (m.kind === 'serial') return { seq: m.seq, kind: 'serial', serial: m.serial, spiffeId: m.spiffeId, notAfter: m.notAfterUnixMs };
  if (m.kind === 'identity' || m.kind === 'unrevoke_identity') return { seq: m.seq, kind: m.kind, spiffeId: m.spiffeId };
  throw new BootstrapError('bad_response', `the CA sent a revocation of unknown kind ${JSON.stringify(m.kind)}`);
}
