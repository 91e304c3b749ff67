import { randomFillSync } from 'node:crypto';

/**
 * Identifiers minted on the request path. Randomness comes from a pooled buffer refilled 4 KiB at a time,
 * because a randomBytes() call per request costs more than everything else here.
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

function take(n: number): Buffer {
  if (poolOffset + n > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

/**
 * Root task id: 127 random bits, base64url (22 characters). The top bit is cleared so the id never starts
 * with '-' or '_': operators paste it into command lines (`tollgate graph --task ID`), where a leading '-'
 * reads as an option.
 */
export function newRootTaskId(): string {
  const b = take(16);
  b[0] &= 0x7f;
  return b.toString('base64url');
}

/** 128 random bits as a view of the pool: read it at once (the next id reuses the memory). */
export function random16(): Buffer {
  return take(16);
}

/** 128 random bits as 32 hex digits (W3C trace id). */
export function randomHex16(): string {
  return take(16).toString('hex');
}

/** 64 random bits as 16 hex digits (W3C span id). */
export function randomHex8(): string {
  return take(8).toString('hex');
}

/**
 * Call ids: a random per-process prefix plus a counter. Unique across restarts (new prefix) and cheap;
 * they only need to be unique, not secret (they travel inside a MAC'd token).
 */
export function callIdFactory(): () => string {
  const prefix = take(6).toString('base64url');
  let n = 0;
  return () => prefix + (n++).toString(36);
}
