import type { DelegationContext } from './token.js';

/**
 * The contexts this gateway signed recently, recognised by their exact token text.
 *
 * A callee hands its context back on its onward calls moments after the gateway issued it, so in the
 * normal flow every inbound token is one this process just computed. Finding the exact string among the
 * tokens it issued authenticates it as well as recomputing its MAC would (only the gateway can produce
 * it), and skips that HMAC and the decoding: a call inside a task then costs one MAC (the re-sign) instead
 * of two. A token not found here (older, displaced, issued by another replica or before a restart, or
 * forged) takes the full path: MAC check, then decode. Expiry and "issued to this caller" are checked on
 * both paths (decide.ts verifyContext), and a hit whose key has since been pruned from the ring is not trusted.
 *
 * A direct-mapped table, like a CPU cache: a token's slot is read off the first characters of its MAC
 * (uniformly random), and a later token landing in the same slot displaces it. No map and no eviction
 * order: a Map keyed by the token (or its MAC) churned one insert and one delete per call into a large
 * old-generation table, which the gateway profile showed at ~1 us per call plus its share of GC. A token
 * issued k calls ago is still here with probability (1 - 1/capacity)^k: 97.6% after 100 calls at 4,096 slots.
 * Memory: capacity x (token + decoded context), about 1 KB each for a 4-hop chain.
 */
export class IssuedContexts {
  private readonly tokens: (string | undefined)[];
  private readonly contexts: (DelegationContext | undefined)[];
  private readonly mask: number;
  private count = 0;

  /** `capacity`: a power of two (the slot is a bit mask of the MAC) */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 24 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError('IssuedContexts capacity must be a power of two between 1 and 2^24');
    }
    this.mask = capacity - 1;
    this.tokens = new Array<string | undefined>(capacity).fill(undefined);
    this.contexts = new Array<DelegationContext | undefined>(capacity).fill(undefined);
  }

  /** how many slots hold a token */
  get size(): number {
    return this.count;
  }

  /** `mac`: the token's MAC text (what follows its last '.'), as the issuer computed it */
  remember(token: string, mac: string, context: DelegationContext): void {
    const slot = slotOf(mac, 0, this.mask);
    if (this.tokens[slot] === undefined) this.count++;
    this.tokens[slot] = token;
    this.contexts[slot] = context;
  }

  get(token: string): DelegationContext | undefined {
    const slot = slotOf(token, token.lastIndexOf('.') + 1, this.mask);
    return this.tokens[slot] === token ? this.contexts[slot] : undefined;
  }
}

/** base64url character code -> its 6 bits (anything else 0: a garbled token only lands in some slot and misses) */
const SIXBITS = new Uint8Array(128);
for (let i = 0; i < 64; i++) SIXBITS['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(i)] = i;

/** 24 bits from the 4 characters of `text` at `at`, masked: the MAC's first characters are uniformly random */
function slotOf(text: string, at: number, mask: number): number {
  const c0 = SIXBITS[text.charCodeAt(at) & 127];
  const c1 = SIXBITS[text.charCodeAt(at + 1) & 127];
  const c2 = SIXBITS[text.charCodeAt(at + 2) & 127];
  const c3 = SIXBITS[text.charCodeAt(at + 3) & 127];
  return ((c0 << 18) | (c1 << 12) | (c2 << 6) | c3) & mask;
}
