import { refusal, RPC_CODE, type Refusal } from '../errors.js';
import type { PeerIdentity } from '../tls/identity.js';

/**
 * Stage "identity": is the connection's SVID good for THIS request? Pure. The per-connection part
 * (validating the certificate) is cached; expiry and revocation are re-checked on every request so that
 * revoking an agent stops its calls on an already-open keep-alive connection at the next request.
 */
export interface Revocation {
  /** sync and O(1): called on every request */
  isRevoked(serial: string, spiffeId: string): boolean;
}

export type IdentityDecision = { ok: true; callerId: string } | { ok: false; refusal: Refusal; /** close the connection after answering */ close: boolean };

export function decideIdentity(peer: PeerIdentity, now: number, revocation: Revocation): IdentityDecision {
  if (!peer.ok) {
    return { ok: false, close: true, refusal: refusal(401, RPC_CODE.unauthenticated, 'unauthenticated', peer.message, { data: { code: peer.code } }) };
  }
  const svid = peer.svid;
  if (now > svid.notAfter) {
    return {
      ok: false,
      close: true,
      refusal: refusal(
        401,
        RPC_CODE.unauthenticated,
        'expired',
        `your certificate expired at ${new Date(svid.notAfter).toISOString()}: renew your SVID and reconnect`,
      ),
    };
  }
  if (now < svid.notBefore - 30_000) {
    return {
      ok: false,
      close: true,
      refusal: refusal(401, RPC_CODE.unauthenticated, 'not_yet_valid', `your certificate is not valid before ${new Date(svid.notBefore).toISOString()}`),
    };
  }
  if (revocation.isRevoked(svid.serial, peer.id)) {
    return {
      ok: false,
      close: true,
      refusal: refusal(403, RPC_CODE.forbidden, 'revoked', `the identity ${peer.id} (certificate serial ${svid.serial}) is revoked`),
    };
  }
  return { ok: true, callerId: peer.id };
}
