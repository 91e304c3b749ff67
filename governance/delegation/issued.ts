import type { DelegationContext } from './token.js';

/**
 * The contexts this gateway signed most recently, by their exact token text.
 *
 * A callee hands its context back on its onward calls moments after the gateway issued it, so in the
 * normal flow every inbound token is one this process just computed. Finding the exact string among the
 * tokens it issued authenticates it as well as recomputing its MAC would (only the gateway can produce
 * it), and skips that HMAC and the decoding: a call inside a task then costs one MAC (the re-sign) instead
 * of two. A token not found here (older, issued by another replica or before a restart, or forged) takes
 * the full path: MAC check, then decode. Expiry and "issued to this caller" are checked on both paths
 * (decide.ts verifyContext), and a hit whose key has since been pruned from the ring is not trusted.
 *
 * Bounded: a ring of the last `capacity` tokens (insertion order; nothing is refreshed on use), so memory
 * is capacity x (token + decoded context), about 1 KB each for a 4-hop chain.
 */
export class IssuedContexts {
  private readonly byToken = new Map<string, DelegationContext>();
  private readonly order: (string | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('IssuedContexts capacity must be a positive integer');
    this.order = new Array<string | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.byToken.size;
  }

  remember(token: string, context: DelegationContext): void {
    const old = this.order[this.next];
    if (old !== undefined) this.byToken.delete(old);
    this.order[this.next] = token;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    this.byToken.set(token, context);
  }

  get(token: string): DelegationContext | undefined {
    return this.byToken.get(token);
  }
}
