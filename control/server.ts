/**
 * The control listener: gRPC over TLS with the gateway's own SVID.
 *
 * We run the TLS server ourselves and hand each established connection to grpc-js through a connection
 * injector, because (a) handlers need the client's full certificate chain to validate an SVID and grpc-js
 * only exposes the leaf, and (b) rotating the gateway's certificate is then a plain `setSecureContext`
 * with the FULL option set (key, cert, ca, secureOptions) that keeps open connections alive.
 *
 * Client certificates are requested but not required (Bootstrap and GetTrustBundle need none);
 * Renew (and later the admin API) validates the recorded chain per call with the injected clock.
 * TLS session tickets are off: a resumed session carries no peer chain, and we want every connection's
 * identity to come from a full handshake.
 *
 * Anyone can connect here without a certificate, so connections are bounded (fail closed, and never by
 * running the process out of file descriptors): a TLS handshake must finish within `handshakeTimeoutMs`;
 * connections without a verified client certificate are capped and short-lived (control/unauthenticated.ts);
 * and any connection with no call in flight for `idleMs` gets a GOAWAY from grpc-js (clients reconnect).
 */
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import { tls } from '../certs/node-tls.js';
import type { Socket } from 'node:net';
import { constants as cryptoConstants } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { CertificateAuthority, GatewayCredentials } from '../ca/api.js';
import type { ValidatedSvid } from '../certs/svid.js';
import { PeerRegistry } from './peer.js';
import { UnauthenticatedConnections } from './unauthenticated.js';
import { ControlError } from './errors.js';
import { identityService } from './identity-service.js';
import { identityServerDefinition } from '../protocol/identity.js';
import { parseHostPort } from './listen.js';
import { stderrLog, type ErrorLog } from './unary.js';

export interface ControlContext {
  authority: CertificateAuthority;
  /** the validated client SVID of a call's connection (throws -> map with control/errors.ts) */
  peerOf: (call: { getPeer(): string }) => ValidatedSvid;
  log?: ErrorLog;
}

export interface ControlServerOptions {
  authority: CertificateAuthority;
  credentials: () => GatewayCredentials;
  /** HOST:PORT; port 0 picks a free one */
  listen: string;
  now?: () => number;
  /**
   * register more services on the same listener: the admin API, and health + reflection
   * (control/admin/health.ts registerHealthAndReflection; not registered here to avoid registering twice)
   */
  extraServices?: (server: grpc.Server, ctx: ControlContext) => void;
  log?: ErrorLog;
  /** TLS handshake deadline (default 10 s) */
  handshakeTimeoutMs?: number;
  /** close a connection with no call in flight after this (grpc-js GOAWAY; default 2 min) */
  idleMs?: number;
  /** connections without a verified client certificate, handshakes included (default 128) */
  maxUnauthenticated?: number;
  /** such a connection is closed this long after accept (default 30 s) */
  unauthenticatedLifetimeMs?: number;
}

export interface ControlServer {
  port: number;
  server: grpc.Server;
  /** connections now counted against maxUnauthenticated (tests, diagnostics) */
  unauthenticatedConnections(): number;
  /** re-read `credentials()` and swap the TLS context; open connections keep their session */
  reloadCredentials(): void;
  close(graceMs?: number): Promise<void>;
}

export function tlsContextOptions(c: GatewayCredentials): SecureContextOptions {
  return {
    key: c.keyPem,
    cert: c.certChainPem,
    ca: c.bundlePem,
    minVersion: 'TLSv1.2',
    secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
  };
}

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const { host, port } = parseHostPort(opts.listen);
  const now = opts.now ?? Date.now;
  const peers = new PeerRegistry();
  const ctx: ControlContext = {
    authority: opts.authority,
    log: opts.log,
    peerOf: (call) => peers.validate(call.getPeer(), { bundleDer: opts.authority.bundleDer(), trustDomain: opts.authority.trustDomain, now: now() }),
  };

  const server = new grpc.Server({ 'grpc.max_receive_message_length': 1024 * 1024, 'grpc.max_connection_idle_ms': opts.idleMs ?? 120_000 });
  server.addService(identityServerDefinition(), identityService({ authority: opts.authority, peerOf: ctx.peerOf, log: opts.log }));
  opts.extraServices?.(server, ctx);

  // TLS is ours (see the header comment); grpc-js sees already-decrypted streams.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const tlsServer = tls.createServer({
    ...tlsContextOptions(opts.credentials()),
    requestCert: true,
    rejectUnauthorized: false,
    ALPNProtocols: ['h2'],
    handshakeTimeout: opts.handshakeTimeoutMs ?? 10_000,
  });
  const sockets = new Set<Socket>();
  const unauthenticated = new UnauthenticatedConnections(opts.maxUnauthenticated ?? 128, opts.unauthenticatedLifetimeMs ?? 30_000);
  tlsServer.on('connection', (socket: Socket) => {
    if (!unauthenticated.admit(socket)) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    // grpc-js clients always negotiate h2; anything else would be refused by the http2 layer anyway.
    if (socket.alpnProtocol !== 'h2') {
      socket.destroy();
      return;
    }
    unauthenticated.established(socket);
    peers.track(socket);
    injector.injectConnection(socket);
  });
  tlsServer.on('tlsClientError', () => {
    /* failed handshakes (scanners, clients that distrust us) concern the client; nothing to serve */
  });

  await new Promise<void>((resolve, reject) => {
    tlsServer.once('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code === 'EADDRINUSE' ? 'another process uses this port: stop it or change listen.control' : 'check listen.control';
      reject(new ControlError('unavailable', `cannot listen on ${opts.listen} for the control API (${err.code ?? err.message}); ${hint}`, { cause: err }));
    });
    tlsServer.listen(port, host, () => {
      tlsServer.removeAllListeners('error');
      tlsServer.on('error', (err: Error) => (opts.log ?? stderrLog).error({ err }, 'control listener error'));
      resolve();
    });
  });
  const bound = tlsServer.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;

  return {
    port: boundPort,
    server,
    unauthenticatedConnections: () => unauthenticated.size,
    reloadCredentials() {
      tlsServer.setSecureContext(tlsContextOptions(opts.credentials()));
    },
    async close(graceMs = 5000) {
      const listenerClosed = new Promise<void>((resolve) => tlsServer.close(() => resolve()));
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      injector.destroy();
      // Sockets that never reached HTTP/2 (stalled handshakes) would keep the listener open.
      for (const s of sockets) s.destroy();
      await listenerClosed;
    },
  };
}
