/**
 * Redis replies (RESP2) read in place from the socket's chunks, for resp.ts: simple strings, errors,
 * integers, bulk strings and arrays (nested). A reply split across chunks is read again from its start
 * once the rest has arrived (the hot path's replies are a few dozen bytes, so that is rare and cheap).
 */

/** An error reply from Redis (`-ERR ...`, `-NOSCRIPT ...`). */
export class RespError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespError';
  }
}

export type Reply = string | number | null | RespError | Reply[];

const INCOMPLETE: unique symbol = Symbol('incomplete');
const EMPTY = Buffer.alloc(0);
const CR = 13;

export class ReplyReader {
  private rest: Buffer | undefined;
  private buf: Buffer = EMPTY;
  private pos = 0;

  /** Read every whole reply in `chunk` (after what an earlier chunk left over), calling `on` for each. */
  feed(chunk: Buffer, on: (r: Reply) => void): void {
    const b = this.rest === undefined ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = undefined;
    this.buf = b;
    this.pos = 0;
    try {
      while (this.pos < b.length) {
        const start = this.pos;
        const r = this.value();
        if (r === INCOMPLETE) {
          this.rest = b.subarray(start);
          return;
        }
        on(r);
      }
    } finally {
      this.buf = EMPTY;
    }
  }

  /** Forget a partial reply (the connection it came on is gone). */
  reset(): void {
    this.rest = undefined;
  }

  private value(): Reply | typeof INCOMPLETE {
    const b = this.buf;
    const type = b[this.pos];
    const cr = b.indexOf(CR, this.pos + 1);
    if (cr < 0 || cr + 1 >= b.length) return INCOMPLETE;
    const s = this.pos + 1;
    this.pos = cr + 2;
    switch (type) {
      case 0x2b: // +
        return b.toString('utf8', s, cr);
      case 0x2d: // -
        return new RespError(b.toString('utf8', s, cr));
      case 0x3a: // :
        return integer(b, s, cr);
      case 0x24: {
        // $
        const n = integer(b, s, cr);
        if (n < 0) return null;
        if (this.pos + n + 2 > b.length) return INCOMPLETE;
        const v = b.toString('utf8', this.pos, this.pos + n);
        this.pos += n + 2;
        return v;
      }
      case 0x2a: {
        // *
        const n = integer(b, s, cr);
        if (n < 0) return null;
        const a: Reply[] = new Array<Reply>(n);
        for (let i = 0; i < n; i++) {
          const v = this.value();
          if (v === INCOMPLETE) return INCOMPLETE;
          a[i] = v;
        }
        return a;
      }
      default:
        throw new Error(`Redis protocol error: unexpected reply type 0x${(type ?? 0).toString(16)}`);
    }
  }
}

function integer(b: Buffer, s: number, e: number): number {
  let neg = false;
  if (b[s] === 0x2d) {
    neg = true;
    s++;
  }
  let n = 0;
  for (let i = s; i < e; i++) n = n * 10 + b[i] - 0x30;
  return neg ? -n : n;
}
