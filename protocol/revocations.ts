/**
 * The CA's revocation log and the in-memory view built from it: two hash lookups per check, no I/O.
 * Shared by both ends of the log: the gateway feeds it from the store (ca/authority.ts, so revocations
 * written by another process such as the CLI show up at the next refresh), agent servers from the
 * identity API's GetRevocations (agent-bootstrap/revocations.ts). Both apply it incrementally from a cursor.
 */

/**
 * One entry of the append-only revocation log, read incrementally by every process sharing the store
 * (`revocationsSince(cursor)`), so a revocation made by the CLI reaches the running gateway.
 */
export type RevocationEvent =
  | { seq: number; kind: 'serial'; serial: string; spiffeId: string; notAfter: number }
  | { seq: number; kind: 'identity'; spiffeId: string }
  | { seq: number; kind: 'unrevoke_identity'; spiffeId: string };

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
