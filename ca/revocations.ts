/**
 * The in-memory revocation view the proxy consults per request: two hash lookups, no I/O. It is fed from
 * the store's append-only revocation log, incrementally from a cursor, so revocations written by another
 * process (the CLI) on the same database show up at the next refresh.
 */
import type { RevocationEvent } from './store/types.js';

/** Revoked serials are forgotten this long after their certificate expired (beyond any clock skew allowance). */
const EXPIRED_GRACE_MS = 10 * 60_000;

export class RevocationCache {
  private readonly serials = new Map<string, number>(); // serial -> the certificate's notAfter
  private readonly banned = new Set<string>();
  private cursor = 0;

  /** Position in the revocation log up to which events were applied. */
  get position(): number {
    return this.cursor;
  }

  apply(events: readonly RevocationEvent[]): void {
    for (const e of events) {
      if (e.kind === 'serial') this.serials.set(e.serial, e.notAfter);
      else if (e.kind === 'identity') this.banned.add(e.spiffeId);
      else this.banned.delete(e.spiffeId);
      if (e.seq > this.cursor) this.cursor = e.seq;
    }
  }

  isRevoked(serial: string, spiffeId: string): boolean {
    return this.banned.has(spiffeId) || this.serials.has(serial);
  }

  /** Drop serials of certificates that have expired: no validator accepts them anyway. */
  prune(now: number): void {
    for (const [serial, notAfter] of this.serials) {
      if (notAfter + EXPIRED_GRACE_MS < now) this.serials.delete(serial);
    }
  }
}
