/**
 * Admin authorization, applied in one place: `withAdminAuth` wraps every handler of the Admin service so
 * that no method can run before the caller is known to be an admin. The caller must present, over mTLS, a
 * valid SVID of our trust domain (validateSvid against the CA bundle, usage 'client') whose SPIFFE ID is
 * listed under `admins:`. Fails closed: any error while finding or checking the peer refuses the call.
 *
 * The peer check itself is injectable (`PeerOf`), so the control server's own peer registry
 * (control/peer.ts) can be used when it terminates TLS itself. `nativeTlsPeerOf` works on a plain grpc-js
 * TLS server.
 */
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import { tls } from '../../certs/node-tls.js';
import type * as grpc from '@grpc/grpc-js';
import { validateSvid, TrustBundle, type ValidatedSvid } from '../../certs/svid.js';
import type { AdminServerRequest, AdminServerResponse, AdminStreamMethod, AdminUnaryMethod } from '../../protocol/admin.js';
import { AdminError } from './errors.js';

/** Any server-side call (grpc-js does not export its ServerSurfaceCall type). */
export type ServerCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/** The validated client SVID of a call; throws (ControlError / CertError / AdminError) when there is none. */
export type PeerOf = (call: ServerCall) => ValidatedSvid;

/**
 * grpc-js exposes only the peer's leaf (getAuthContext), and an SVID cannot be validated without the
 * intermediate that signed it. The TLS socket carries the whole chain the peer sent; grpc-js has no public
 * accessor for it, so we walk its call wrappers to the HTTP/2 session. Isolated here; if a grpc-js upgrade
 * moves things, this returns undefined and calls are refused (never allowed).
 */
export function tlsSocketOf(call: ServerCall): TLSSocket | undefined {
  let c = (call as unknown as { call?: unknown }).call as { nextCall?: unknown; stream?: { session?: { socket?: unknown } } } | undefined;
  for (let i = 0; c && i < 16; i++) {
    const socket = c.stream?.session?.socket;
    if (socket instanceof tls.TLSSocket) return socket;
    c = c.nextCall as typeof c;
  }
  return undefined;
}

/** DER chain the peer presented, leaf first (Node appends the matching bundle root, which is harmless). */
export function peerChainOf(socket: TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  let cert: PeerCertificate | DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert && cert.raw && out.length < 8) {
    const raw = cert.raw;
    if (out.some((d) => d.equals(raw))) break; // a self-signed root is its own issuer
    out.push(raw);
    cert = (cert as DetailedPeerCertificate).issuerCertificate;
  }
  return out;
}

export function nativeTlsPeerOf(opts: { bundleDer: () => Buffer[]; trustDomain: string; now: () => number }): PeerOf {
  let cachedKey: Buffer[] | null = null;
  let cached: TrustBundle | null = null;
  const bundle = (der: Buffer[]) => {
    // Parse the bundle again only when the CA's bundle changes (root rotation).
    if (!cached || !cachedKey || cachedKey.length !== der.length || !cachedKey.every((d, i) => d.equals(der[i]))) {
      cached = new TrustBundle(der);
      cachedKey = der;
    }
    return cached;
  };
  return (call) => {
    const socket = tlsSocketOf(call);
    const chain = socket ? peerChainOf(socket) : [];
    if (chain.length === 0) {
      throw new AdminError('unauthenticated', 'no client certificate was presented: admin calls need an admin SVID as the TLS client certificate (mTLS)');
    }
    const der = opts.bundleDer();
    return validateSvid({ chain, bundle: der, now: opts.now(), trustDomain: opts.trustDomain, usage: 'client' }, bundle(der));
  };
}

/**
 * Returns the admin's SPIFFE ID, or throws: unauthenticated (no/invalid SVID), revoked, or not_admin.
 * `isRevoked` is the CA's fast in-memory check: a revoked admin certificate stops working at once, not
 * when it expires.
 */
export function adminAuthorizer(
  peerOf: PeerOf,
  admins: () => readonly string[],
  isRevoked: (serial: string, spiffeId: string) => boolean = () => false,
): (call: ServerCall) => string {
  return (call) => {
    const svid = peerOf(call);
    const id = svid.id.uri;
    if (isRevoked(svid.serial, id)) throw new AdminError('revoked', `the client certificate of ${id} (serial ${svid.serial}) is revoked`);
    if (!admins().includes(id)) {
      throw new AdminError('not_admin', `${id} is not an admin: add it to admins: in the config to allow admin calls`);
    }
    return id;
  };
}

export interface AdminContext<Call> {
  /** SPIFFE ID of the admin making the call */
  actor: string;
  call: Call;
}

/**
 * Method M's handler: the decoded request in, the answer out; both typed from admin.proto. A handler whose
 * work is synchronous returns the answer itself; withAdminAuth treats a throw and a rejection alike.
 */
export type AdminUnaryHandler<M extends AdminUnaryMethod> = (
  req: AdminServerRequest<M>,
  ctx: AdminContext<grpc.ServerUnaryCall<AdminServerRequest<M>, AdminServerResponse<M>>>,
) => AdminServerResponse<M> | Promise<AdminServerResponse<M>>;
export type AdminStreamHandler<M extends AdminStreamMethod> = (
  req: AdminServerRequest<M>,
  ctx: AdminContext<grpc.ServerWritableStream<AdminServerRequest<M>, AdminServerResponse<M>>>,
) => void;
/** Handlers by method name; a method left out answers UNIMPLEMENTED (see withAdminAuth). */
export type AdminHandlers = { [M in AdminUnaryMethod]?: AdminUnaryHandler<M> } & { [M in AdminStreamMethod]?: AdminStreamHandler<M> };

// What withAdminAuth sees while it walks the definition by name: the per-method types are checked where
// the handlers are written (AdminHandlers), and grpc-js hands over what that method's definition decoded.
type AnyUnaryHandler = (req: unknown, ctx: AdminContext<grpc.ServerUnaryCall<unknown, unknown>>) => unknown;
type AnyStreamHandler = (req: unknown, ctx: AdminContext<grpc.ServerWritableStream<unknown, unknown>>) => void;

export interface AdminWrapOptions {
  authorize: (call: ServerCall) => string;
  /** maps any thrown error to a status (control/admin/errors.ts) and says if the cause must be logged */
  toStatus: (err: unknown) => { error: Partial<grpc.ServiceError>; hidden: boolean };
  onHiddenError?: (method: string, err: unknown) => void;
}

/**
 * The service implementation: every method of `definition` authorizes first, then runs its handler.
 * A method without a handler answers UNIMPLEMENTED through grpc-js (it is simply absent).
 */
export function withAdminAuth(definition: grpc.ServiceDefinition, handlers: AdminHandlers, opts: AdminWrapOptions): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  const fail = (method: string, err: unknown) => {
    const s = opts.toStatus(err);
    if (s.hidden) opts.onHiddenError?.(method, err);
    return s.error;
  };
  // which of the two a handler is follows from its method's definition (responseStream), not from its type
  const byName = handlers as unknown as Record<string, unknown>;
  for (const [method, def] of Object.entries(definition)) {
    const handler = byName[method];
    if (!handler) continue;
    if (def.requestStream) throw new Error(`admin method ${method}: client streaming is not supported by withAdminAuth`);
    if (def.responseStream) {
      const h = handler as AnyStreamHandler;
      impl[method] = ((call: grpc.ServerWritableStream<unknown, unknown>) => {
        try {
          const actor = opts.authorize(call);
          h(call.request, { actor, call });
        } catch (err) {
          call.emit('error', fail(method, err));
        }
      }) as grpc.handleServerStreamingCall<unknown, unknown>;
    } else {
      const h = handler as AnyUnaryHandler;
      impl[method] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        // a throw (from authorize or the handler) rejects p like a rejected answer does
        const p = new Promise<unknown>((resolve) => {
          const actor = opts.authorize(call);
          resolve(h(call.request, { actor, call }));
        });
        p.then(
          (res) => callback(null, res),
          (err: unknown) => callback(fail(method, err)),
        );
      }) as grpc.handleUnaryCall<unknown, unknown>;
    }
  }
  return impl;
}
