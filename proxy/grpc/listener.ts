import http2, { type ServerHttp2Session } from 'node:http2';
import type https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { ProxyError } from '../errors.js';
import type { GrpcCalls } from './calls.js';

/**
 * HTTP/2 on the proxy listener, next to HTTP/1.1, without touching the HTTP/1.1 path.
 *
 * The listener stays the https.Server it was: same TLS (client certificates required and verified, handshake
 * timeout, connection cap, certificate hot swap), same HTTP/1.1 parser and request/response objects. ALPN
 * offers `http/1.1` and `h2`, in that order of preference: a client that speaks both (curl, Go, browsers)
 * gets HTTP/1.1, the path the gateway is tuned and measured on; a client that offers only h2 (every gRPC
 * client) gets h2. After the handshake the socket goes to HTTP/1.1 as before, or, when ALPN chose h2, to an
 * HTTP/2 session (a bare http2 server used only to run sessions on sockets it is handed): one string
 * comparison per connection, nothing per request.
 *
 * Over h2 the gateway serves the A2A gRPC binding (calls.ts); other h2 requests are refused with HTTP 505
 * and a JSON-RPC error body saying to use HTTP/1.1.
 */
export const ALPN_PROTOCOLS = ['http/1.1', 'h2'];

export interface H2Listener {
  /** GOAWAY to every session: in-flight streams finish, no new ones */
  closeSessions(): void;
  /** sessions open now */
  readonly sessions: ReadonlySet<ServerHttp2Session>;
  /** the session idle timeout (config.timeouts.idle) */
  setIdleTimeout(ms: number): void;
}

/** HTTP/2 settings the gateway announces: streams per connection, like a connection cap per caller. */
const MAX_CONCURRENT_STREAMS = 128;

export function serveH2(server: https.Server, calls: GrpcCalls, idleMs: number): H2Listener {
  const listeners = server.listeners('secureConnection');
  if (listeners.length !== 1 || typeof listeners[0] !== 'function')
    throw new ProxyError('internal', `the HTTPS server has ${listeners.length} connection listeners, not Node's one: cannot add HTTP/2 next to it`);
  const http1 = listeners[0] as (this: https.Server, sock: TLSSocket) => void;
  server.removeListener('secureConnection', http1);

  const sessions = new Set<ServerHttp2Session>();
  let idle = idleMs;
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS } });
  let arriving: TLSSocket | undefined;
  h2.on('session', (session: ServerHttp2Session) => {
    calls.onSession(session, arriving!);
    sessions.add(session);
    session.setTimeout(idle, () => session.close());
    session.on('error', () => {}); // its streams see their own errors; the socket is destroyed
    session.once('close', () => sessions.delete(session));
  });
  h2.on('stream', (stream, headers) => calls.handle(stream, headers));

  server.on('secureConnection', function (this: https.Server, sock: TLSSocket) {
    if (sock.alpnProtocol !== 'h2') {
      http1.call(this, sock);
      return;
    }
    arriving = sock;
    try {
      h2.emit('connection', sock); // creates the session ('session' above) synchronously
    } finally {
      arriving = undefined;
    }
  });

  return {
    sessions,
    closeSessions() {
      for (const s of sessions) if (!s.closed) s.close();
    },
    setIdleTimeout(ms: number) {
      idle = ms;
    },
  };
}
