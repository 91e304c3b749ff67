/**
 * Bounds on control connections that have not proven an identity: anyone can connect to the control port
 * without a certificate (Bootstrap and GetTrustBundle need none), so these are what a flood consists of.
 *
 *  - a cap: at `max`, a new connection evicts the OLDEST unauthenticated one (closed at once) rather than
 *    being refused. A legitimate bootstrap needs its connection for milliseconds; a flood's connections sit
 *    idle. Refusing new ones would let 128 silent sockets, renewed every handshake timeout, lock every
 *    agent out of bootstrap; evicting the oldest means a flood must open `max` connections within one
 *    bootstrap's round trip to crowd it out. Handshakes count, because whether a client has a certificate is
 *    only known after one; a connection whose certificate verified against the bundle leaves the count at once;
 *  - a lifetime: an unauthenticated connection is closed `lifetimeMs` after accept, whatever it does.
 *    What needs no certificate (a bootstrap, the trust bundle, a health probe) is one short call. The
 *    grpc-js idle timer (timeouts.controlIdle) closes silent connections too, but not one that keeps a
 *    call open or trickles frames; a lifetime bounds every kind, so a flood lasts at most this long.
 *
 * Connections are keyed by "address:port": the raw socket seen on accept and the TLS socket seen after the
 * handshake share it.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { peerKey } from './peer.js';

interface Entry {
  socket: Socket;
  expiry: NodeJS.Timeout;
}

export class UnauthenticatedConnections {
  private readonly live = new Map<string, Entry>();

  constructor(
    private readonly max: number,
    private readonly lifetimeMs: number,
  ) {}

  get size(): number {
    return this.live.size;
  }

  /** How many connections the cap evicted (the oldest first) to admit newer ones. */
  evicted = 0;

  /** On accept. At the cap, the oldest unauthenticated connection is closed to make room. */
  admit(socket: Socket): boolean {
    if (this.live.size >= this.max) {
      // Map iteration order is insertion order: the first key is the oldest connection
      const oldest = this.live.keys().next();
      if (!oldest.done) {
        const entry = this.live.get(oldest.value)!;
        this.release(oldest.value, entry.socket);
        entry.socket.destroy();
        this.evicted++;
      }
    }
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    const expiry = setTimeout(() => this.live.get(key)?.socket.destroy(), this.lifetimeMs);
    expiry.unref();
    this.live.set(key, { socket, expiry });
    socket.once('close', () => this.release(key, socket));
    return true;
  }

  /**
   * After the handshake. A verified client certificate ends the bounds (handlers still validate the SVID
   * per call); otherwise the TLS socket, which now owns the connection, is what the lifetime closes.
   */
  established(socket: TLSSocket): void {
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    const entry = this.live.get(key);
    if (!entry) return;
    if (socket.authorized) {
      this.release(key, entry.socket);
      return;
    }
    entry.socket = socket;
    socket.once('close', () => this.release(key, socket));
  }

  private release(key: string, socket: Socket): void {
    const entry = this.live.get(key);
    if (entry?.socket !== socket) return;
    clearTimeout(entry.expiry);
    this.live.delete(key);
  }
}
