import type { TLSSocket } from 'node:tls';
import { validateSvid, CertError, type ValidatedSvid } from '../../certs/index.js';
import type { Trust } from './trust.js';

/**
 * Who is on the other end of a TLS connection: the X.509-SVID validated from DER with certs/svid.ts
 * (never from Node's subjectaltname string). Resolved once per connection and cached on the socket;
 * re-resolved when the trust material changed (reloadCredentials). Expiry and revocation are NOT decided
 * here: they are re-checked on every request (stages/identity.ts).
 *
 * Session resumption: a resumed session (TLS 1.2 ticket/ID or TLS 1.3 PSK) has no handshake certificate
 * message, but OpenSSL restores the peer leaf from the session, so the same validation runs on it. If a
 * resumed (or any) session has no peer certificate, the connection fails closed.
 */
export type PeerIdentity = { ok: true; svid: ValidatedSvid; id: string } | { ok: false; code: string; message: string };

const MAX_CACHE = 10_000;

export class IdentityResolver {
  /** leaf SHA-256 fingerprint -> validated SVID, for the current trust generation */
  private cache = new Map<string, ValidatedSvid>();
  private trust: Trust;

  constructor(
    trust: Trust,
    private readonly now: () => number,
  ) {
    this.trust = trust;
  }

  setTrust(trust: Trust): void {
    this.trust = trust;
    this.cache = new Map();
  }

  get gen(): number {
    return this.trust.gen;
  }

  resolve(socket: TLSSocket): PeerIdentity {
    const leaf = socket.getPeerX509Certificate();
    if (leaf === undefined) {
      return { ok: false, code: 'no_peer_certificate', message: 'no client certificate is bound to this TLS session; reconnect with a full handshake' };
    }
    const fp = leaf.fingerprint256;
    const hit = this.cache.get(fp);
    if (hit !== undefined) return { ok: true, svid: hit, id: hit.id.uri };
    try {
      const svid = validateSvid(
        {
          chain: [leaf.raw, ...this.trust.intermediates],
          bundle: this.trust.bundleDer,
          now: this.now(),
          trustDomain: this.trust.trustDomain,
          usage: 'client',
        },
        this.trust.bundle,
      );
      if (this.cache.size >= MAX_CACHE) this.cache.clear();
      this.cache.set(fp, svid);
      return { ok: true, svid, id: svid.id.uri };
    } catch (e) {
      if (e instanceof CertError) return { ok: false, code: e.code, message: `your client certificate is not a valid X.509-SVID: ${e.message}` };
      return { ok: false, code: 'svid_invalid', message: 'your client certificate could not be validated' };
    }
  }
}
