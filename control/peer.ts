/**
 * Peer identity on the control listener. We terminate TLS ourselves (control/server.ts) and keep each live
 * connection's socket, keyed by "address:port" — the same string grpc-js gives a handler as
 * `call.getPeer()` — so a handler can read the certificate chain the client presented. grpc-js's own
 * `getAuthContext()` only exposes the leaf, and an SVID cannot be validated without the intermediate that
 * signed it. The chain is read at call time, so it is always the connection's current one.
 */
import type { TLSSocket, PeerCertificate, DetailedPeerCertificate } from 'node:tls';
import { validateSvid, TrustBundle, type ValidatedSvid } from '../certs/svid.js';
import { ControlError } from './errors.js';

/** DER chain the peer presented (leaf first; Node appends the matching bundle root, which is harmless). */
export function peerChainDer(socket: TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  let cert: PeerCertificate | DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  // A self-signed root is its own issuer: stop when the walk loops.
  while (cert && cert.raw && out.length < 8) {
    if (out.some((d) => d.equals(cert!.raw))) break;
    out.push(cert.raw);
    cert = (cert as DetailedPeerCertificate).issuerCertificate;
  }
  return out;
}

export function peerKey(address: string | undefined, port: number | undefined): string {
  return port ? `${address}:${port}` : String(address);
}

export class PeerRegistry {
  private readonly sockets = new Map<string, TLSSocket>();
  private bundleKey: Buffer[] | null = null;
  private bundle: TrustBundle | null = null;

  /** Call on 'secureConnection': remembers the socket until it closes. */
  track(socket: TLSSocket): void {
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    this.sockets.set(key, socket);
    socket.once('close', () => {
      if (this.sockets.get(key) === socket) this.sockets.delete(key);
    });
  }

  /** Live connections tracked (for tests and diagnostics). */
  get size(): number {
    return this.sockets.size;
  }

  /**
   * The validated client SVID of the connection a call arrived on. Throws ControlError('unauthenticated')
   * when none was presented and CertError when it is not a valid SVID of this trust domain (both map to
   * UNAUTHENTICATED). Fails closed on an unknown connection.
   */
  validate(peer: string, opts: { bundleDer: Buffer[]; trustDomain: string; now: number }): ValidatedSvid {
    const socket = this.sockets.get(peer);
    const chain = socket && !socket.destroyed ? peerChainDer(socket) : [];
    if (chain.length === 0) {
      throw new ControlError('unauthenticated', 'no client certificate was presented: this call needs your current SVID as the TLS client certificate (mTLS)');
    }
    return validateSvid({ chain, bundle: opts.bundleDer, now: opts.now, trustDomain: opts.trustDomain, usage: 'client' }, this.trustBundle(opts.bundleDer));
  }

  // Parse the bundle once and again only when the CA's bundle changes (root rotation).
  private trustBundle(bundleDer: Buffer[]): TrustBundle {
    const same = this.bundleKey !== null && this.bundleKey.length === bundleDer.length && this.bundleKey.every((d, i) => d.equals(bundleDer[i]));
    if (!same || !this.bundle) {
      this.bundle = new TrustBundle(bundleDer);
      this.bundleKey = bundleDer;
    }
    return this.bundle;
  }
}
