/**
 * Join tokens: `tgjoin_` + 32 random bytes in base64url (43 characters). The prefix makes a leaked token
 * easy to find with a secret scanner; the CA stores only the SHA-256 of the whole token, so a copy of the
 * database does not hand out identities.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CaError } from './api.js';

export const TOKEN_PREFIX = 'tgjoin_';
const TOKEN_SHAPE = /^tgjoin_[A-Za-z0-9_-]{43}$/;

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** The key a token is stored and looked up under. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Reject strings that cannot be a token before touching the store. */
export function checkTokenShape(token: unknown): string {
  if (typeof token !== 'string' || token.length === 0) {
    throw new CaError('invalid_argument', 'a join token is required (create one with `tollgate token create --id spiffe://...`)');
  }
  const t = token.trim();
  if (!TOKEN_SHAPE.test(t)) {
    // an unknown token to the caller (it authenticates no one), with a hint at the expected shape
    throw new CaError(
      'token_unknown',
      `unknown join token: Tollgate tokens look like ${TOKEN_PREFIX}<43 characters of base64url>; create one with \`tollgate token create\``,
    );
  }
  return t;
}
