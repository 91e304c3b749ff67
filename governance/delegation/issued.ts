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
 *
 * Keyed by the token's MAC text (its last 43 characters) rather than the whole token: hashing a ~300-char
 * key on every issue showed as 1.5 us per call in the gateway profile, hashing the MAC costs a seventh of
 * that. A hit still requires the exact token text, so the key choice changes nothing about what is trusted.
 */
interface Issued {
  readonly token: string;
  readonly context: DelegationContext;
}

export class IssuedContexts {
  private readonly byMac = new Map<string, Issued>();
  private readonly order: (string | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('IssuedContexts capacity must be a positive integer');
    this.order = new Array<string | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.byMac.size;
  }

  /** `mac`: the token's MAC text (what follows its last '.'), as the issuer computed it */
  remember(token: string, mac: string, context: DelegationContext): void {
    const old = this.order[this.next];
    if (old !== undefined) this.byMac.delete(old);
    this.order[this.next] = mac;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    this.byMac.set(mac, { token, context });
  }

  get(token: string): DelegationContext | undefined {
    const e = this.byMac.get(token.slice(token.lastIndexOf('.') + 1));
    return e !== undefined && e.token === token ? e.context : undefined;
  }
}
