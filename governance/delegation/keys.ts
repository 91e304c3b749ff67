import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DelegationError } from './errors.js';
import { HmacSha256 } from './mac.js';

/**
 * The gateway's HMAC keys for delegation contexts. Only the gateway signs and verifies, so a symmetric MAC
 * is enough. One current key signs; retired keys stay for verification until every token they signed has
 * expired (retiredAt + retention, retention = the token TTL), then they are pruned.
 */
export interface DelegationKey {
  readonly kid: string;
  readonly secret: Buffer;
  /** the MAC under this key, its padded key blocks computed once (mac.ts) */
  readonly hmac: HmacSha256;
  readonly createdAt: number;
  readonly retiredAt?: number;
}

/** What token verification needs from a key ring. */
export interface KeyLookup {
  get(kid: string): DelegationKey | undefined;
}

export const DELEGATION_KEYS_FILE = 'delegation-keys.json';
const KID = /^[A-Za-z0-9_-]{1,32}$/;
const SECRET_BYTES = 32;

export function makeKey(kid: string, secret: Buffer, createdAt: number, retiredAt?: number): DelegationKey {
  const k: DelegationKey = { kid, secret, hmac: new HmacSha256(secret), createdAt, ...(retiredAt !== undefined ? { retiredAt } : {}) };
  return Object.freeze(k);
}

export function freshKey(now: number): DelegationKey {
  return makeKey(randomBytes(6).toString('base64url'), randomBytes(SECRET_BYTES), now);
}

export interface KeyRingOptions {
  now: () => number;
  /** how long a retired key still verifies (the token TTL, ms) */
  retentionMs: number;
  /** called after every change (rotate, prune) with the ring; the file store persists here */
  onChange?: (ring: KeyRing) => void;
}

export class KeyRing implements KeyLookup {
  private keys = new Map<string, DelegationKey>();
  private cur: DelegationKey;
  private retentionMs: number;
  private readonly now: () => number;
  private readonly onChange?: (ring: KeyRing) => void;

  /** `keys` must hold exactly one key without retiredAt (the current one); with none given, one is generated. */
  constructor(opts: KeyRingOptions, keys?: readonly DelegationKey[]) {
    this.now = opts.now;
    this.retentionMs = opts.retentionMs;
    this.onChange = opts.onChange;
    const list = keys && keys.length ? keys : [freshKey(opts.now())];
    const current = list.filter((k) => k.retiredAt === undefined);
    if (current.length !== 1) {
      throw new DelegationError('invalid_argument', `a delegation key ring needs exactly one current key, got ${current.length}`);
    }
    for (const k of list) this.keys.set(k.kid, k);
    this.cur = current[0];
  }

  current(): DelegationKey {
    return this.cur;
  }

  get(kid: string): DelegationKey | undefined {
    return this.keys.get(kid);
  }

  /**
   * Replace the whole ring with `keys` signing with `currentKid` (a ring shared through a database:
   * postgres-keys.ts computes the set; onChange is not called, the database is already the truth).
   */
  adopt(keys: readonly DelegationKey[], currentKid: string): void {
    const next = new Map<string, DelegationKey>();
    for (const k of keys) next.set(k.kid, k);
    const cur = next.get(currentKid);
    if (cur === undefined) throw new DelegationError('invalid_argument', `the current delegation key ${currentKid} is not in the ring`);
    this.keys = next;
    this.cur = cur;
  }

  /** Start signing with a new key; the old one keeps verifying for the retention period. Returns the new key. */
  rotate(): DelegationKey {
    const now = this.now();
    const old = this.cur;
    this.keys.set(old.kid, makeKey(old.kid, old.secret, old.createdAt, now));
    let next = freshKey(now);
    while (this.keys.has(next.kid)) next = freshKey(now);
    this.keys.set(next.kid, next);
    this.cur = next;
    this.pruneQuietly(now);
    this.onChange?.(this);
    return next;
  }

  /** Rotate if the current key is at least maxAgeMs old (for a timer). Returns whether it rotated. */
  rotateIfOlderThan(maxAgeMs: number): boolean {
    if (this.now() - this.cur.createdAt < maxAgeMs) return false;
    this.rotate();
    return true;
  }

  /** Drop retired keys whose tokens have all expired. Returns how many were dropped. */
  prune(): number {
    const n = this.pruneQuietly(this.now());
    if (n > 0) this.onChange?.(this);
    return n;
  }

  /** The token TTL changed (config reload): retired keys are kept this long after retirement. */
  setRetention(ms: number): void {
    this.retentionMs = ms;
  }

  list(): { kid: string; createdAt: number; retiredAt?: number; current: boolean }[] {
    return [...this.keys.values()].map((k) => ({
      kid: k.kid,
      createdAt: k.createdAt,
      ...(k.retiredAt !== undefined ? { retiredAt: k.retiredAt } : {}),
      current: k === this.cur,
    }));
  }

  /** Serialised form (secrets included: only for the 0600 key file). */
  toFile(): KeyFile {
    return {
      version: 1,
      keys: [...this.keys.values()].map((k) => ({
        kid: k.kid,
        secret: k.secret.toString('base64url'),
        createdAt: k.createdAt,
        ...(k.retiredAt !== undefined ? { retiredAt: k.retiredAt } : {}),
      })),
    };
  }

  private pruneQuietly(now: number): number {
    let n = 0;
    for (const k of this.keys.values()) {
      if (k.retiredAt !== undefined && k.retiredAt + this.retentionMs <= now) {
        this.keys.delete(k.kid);
        n++;
      }
    }
    return n;
  }
}

export interface KeyFile {
  version: 1;
  keys: { kid: string; secret: string; createdAt: number; retiredAt?: number }[];
}

/** Validate a parsed key file; throws DelegationError('keys_corrupt') naming the problem. */
export function keysFromFile(raw: unknown, source: string): DelegationKey[] {
  const bad = (why: string): never => {
    throw new DelegationError('keys_corrupt', `${source} is not a valid delegation key file: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null) bad('expected a JSON object');
  const f = raw as Record<string, unknown>;
  if (f.version !== 1) bad(`unsupported version ${JSON.stringify(f.version)} (expected 1)`);
  if (!Array.isArray(f.keys) || f.keys.length === 0) bad('"keys" must be a non-empty array');
  const seen = new Set<string>();
  const keys = (f.keys as unknown[]).map((k, i) => {
    if (typeof k !== 'object' || k === null) bad(`keys[${i}] is not an object`);
    const e = k as Record<string, unknown>;
    if (typeof e.kid !== 'string' || !KID.test(e.kid)) bad(`keys[${i}].kid must be 1-32 characters of A-Z a-z 0-9 _ -`);
    if (seen.has(e.kid as string)) bad(`keys[${i}].kid ${JSON.stringify(e.kid)} is duplicated`);
    seen.add(e.kid as string);
    const secret = typeof e.secret === 'string' && /^[A-Za-z0-9_-]+$/.test(e.secret) ? Buffer.from(e.secret, 'base64url') : undefined;
    if (!secret || secret.length < SECRET_BYTES) bad(`keys[${i}].secret must be at least ${SECRET_BYTES} bytes, base64url`);
    if (typeof e.createdAt !== 'number' || !Number.isFinite(e.createdAt)) bad(`keys[${i}].createdAt must be a number (ms)`);
    if (e.retiredAt !== undefined && (typeof e.retiredAt !== 'number' || !Number.isFinite(e.retiredAt))) bad(`keys[${i}].retiredAt must be a number (ms)`);
    return makeKey(e.kid as string, secret as Buffer, e.createdAt as number, e.retiredAt as number | undefined);
  });
  const current = keys.filter((k) => k.retiredAt === undefined).length;
  if (current !== 1) bad(`exactly one key must be current (without retiredAt), found ${current}`);
  return keys;
}

/** Write `data` to `file` atomically (temp file in the same directory, fsync, rename), mode 0600. */
export function writeFileAtomic0600(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* the temp file may not exist */
    }
    throw new DelegationError('keys_write_failed', `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

export interface OpenKeyRingOptions {
  dataDir: string;
  now: () => number;
  /** the token TTL (ms): retired keys verify this long after retirement */
  retentionMs: number;
  log?: { warn(obj: object, msg: string): void };
}

/**
 * Load `<dataDir>/delegation-keys.json`, or create it with a fresh key. Every change is persisted before
 * rotate()/prune() return, so tokens signed before a restart still verify after it.
 * A corrupt file is an error (never silently replaced: that would also drop keys other tokens rely on).
 */
export function openKeyRing(opts: OpenKeyRingOptions): KeyRing {
  const file = path.join(opts.dataDir, DELEGATION_KEYS_FILE);
  const persist = (ring: KeyRing) => writeFileAtomic0600(file, `${JSON.stringify(ring.toFile(), null, 2)}\n`);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new DelegationError('keys_unreadable', `cannot read ${file}: ${code ?? (e as Error).message}`, { cause: e });
  }
  if (text === undefined) {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    const ring = new KeyRing({ now: opts.now, retentionMs: opts.retentionMs, onChange: persist });
    persist(ring);
    return ring;
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    // Secrets readable by others: tighten rather than refuse to start, and say so.
    chmodSync(file, 0o600);
    opts.log?.warn({ file, mode: mode.toString(8) }, 'delegation key file was readable by group/others; set to 0600');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DelegationError('keys_corrupt', `${file} is not a valid delegation key file: not JSON`, { cause: e });
  }
  const ring = new KeyRing({ now: opts.now, retentionMs: opts.retentionMs, onChange: persist }, keysFromFile(raw, file));
  ring.prune();
  return ring;
}
