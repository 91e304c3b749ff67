/**
 * Who is calling, for an A2A agent built with @a2a-js/sdk's express handlers: a `userBuilder` whose user is
 * the caller's SPIFFE ID.
 *
 *   app.use('/a2a/jsonrpc', jsonRpcHandler({ requestHandler, userBuilder: spiffeUserBuilder({ gatewayId }) }));
 *
 * Behind the Tollgate gateway the TLS peer of every request is the gateway; the caller it forwards for is
 * in `x-forwarded-client-cert: By=<gateway id>;URI=<caller id>`. That header is believed ONLY on a
 * connection whose TLS peer is `gatewayId` (as validated by createAgentServer); from any other peer it is
 * ignored and the caller is the peer itself, so nobody can claim someone else's identity by sending the
 * header. A request with no validated peer gets an unauthenticated user. A request from the gateway
 * without a well-formed header is refused (the builder throws, the SDK answers with an error) rather than
 * run as the gateway or as nobody.
 *
 * What the user does in the SDK (@a2a-js/sdk 1.3): DefaultRequestHandler with InMemoryTaskStore keys tasks,
 * push-notification configs and the event buses of running tasks by `user.userName` (and tenant), so with
 * this builder GetTask, ListTasks, CancelTask, SubscribeToTask, the push-config methods and a SendMessage
 * continuing a task see only the caller's own tasks. A custom TaskStore must do the same (scope by
 * `context.user.userName`); an executor reads the caller as `requestContext.context.user.userName`. All
 * unauthenticated callers share one bucket: give them none (createAgentServer requires a client certificate).
 */
import type { IncomingMessage } from 'node:http';
import { parseSpiffeId } from '../certs/spiffe-id.js';
import { BootstrapError } from './errors.js';
import { peerOf } from './server.js';

/** The SDK's User shape (`isAuthenticated`, `userName`), plus how the caller was learned. */
export interface CallerUser {
  readonly isAuthenticated: boolean;
  /** the caller's SPIFFE ID ('' when unauthenticated) */
  readonly userName: string;
  /** 'gateway': named by the gateway's x-forwarded-client-cert; 'peer': the TLS peer itself */
  readonly via: 'gateway' | 'peer' | 'none';
}

export interface SpiffeUserBuilderOptions {
  /** the gateway's SPIFFE ID (e.g. spiffe://<td>/tollgate/gateway): the one peer whose XFCC is believed */
  gatewayId: string;
  /**
   * The validated SPIFFE ID of the request's TLS peer. Default: what createAgentServer validated (peerOf);
   * on another server, pass a function that returns the ID of a peer certificate you validated.
   */
  peer?: (req: IncomingMessage) => string | undefined;
}

const XFCC = 'x-forwarded-client-cert';

/**
 * Pure: the caller named by the gateway's XFCC value, or undefined when the value is not exactly one
 * `By=<gatewayId>;URI=<canonical SPIFFE ID>` (the form proxy/headers.ts xfccValue writes).
 */
export function callerFromXfcc(value: string | string[] | undefined, gatewayId: string): string | undefined {
  if (typeof value !== 'string' || value.includes(',')) return undefined;
  const prefix = `By=${gatewayId};URI=`;
  if (!value.startsWith(prefix)) return undefined;
  const uri = value.slice(prefix.length);
  if (uri.includes(';') || uri.includes('"')) return undefined;
  try {
    return parseSpiffeId(uri).uri === uri ? uri : undefined;
  } catch {
    return undefined;
  }
}

/** Pure: the user of a request whose validated TLS peer is `peerId`, given its XFCC header. */
export function callerUser(peerId: string | undefined, xfcc: string | string[] | undefined, gatewayId: string): CallerUser {
  if (peerId === undefined) return UNAUTHENTICATED;
  if (peerId !== gatewayId) return { isAuthenticated: true, userName: peerId, via: 'peer' };
  const caller = callerFromXfcc(xfcc, gatewayId);
  if (caller === undefined) {
    throw new BootstrapError(
      'caller_unknown',
      `a request from the gateway ${gatewayId} without a valid ${XFCC} ("By=${gatewayId};URI=<caller>"): its caller is unknown, so it is refused`,
    );
  }
  return { isAuthenticated: true, userName: caller, via: 'gateway' };
}

const UNAUTHENTICATED: CallerUser = Object.freeze({ isAuthenticated: false, userName: '', via: 'none' as const });

/** A `userBuilder` for @a2a-js/sdk's jsonRpcHandler / restHandler (see the top of this file). */
export function spiffeUserBuilder(opts: SpiffeUserBuilderOptions): (req: IncomingMessage) => Promise<CallerUser> {
  let gatewayId: string;
  try {
    gatewayId = parseSpiffeId(opts.gatewayId).uri;
  } catch (e) {
    throw new BootstrapError('invalid_argument', `spiffeUserBuilder: gatewayId: ${(e as Error).message}`);
  }
  const peer = opts.peer ?? ((req: IncomingMessage) => peerOf(req)?.id.uri);
  // async: a refused request (callerUser throws) becomes a rejected promise, which the SDK answers as an error
  // eslint-disable-next-line @typescript-eslint/require-await
  return async (req) => callerUser(peer(req), req.headers[XFCC], gatewayId);
}
