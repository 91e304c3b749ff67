/**
 * The gateway's identity plane: its identity (control/gateway-identity.ts: the CA, its own SVID, rotation)
 * and the control listener serving the identity API (+ extra services such as the admin API). startGateway
 * composes both in order; gateway/tollgate.ts composes the same two pieces itself, with the proxy between
 * them, and hands back the same Gateway view. close() undoes them in reverse.
 *
 *   1. the identity: CA, gateway SVID, rotation
 *   2. control listener: identity API (+ extra services), following the SVID's rotation
 */
import type * as grpc from '@grpc/grpc-js';
import type { Config } from '../config/schema.js';
import type { CertificateAuthority, GatewayCredentials } from '../ca/api.js';
import { startControlServer, type ControlContext, type ControlServer } from './server.js';
import { connectionCaps } from '../config/fd-budget.js';
import { openGatewayIdentity, type GatewayIdentity, type GatewayIdentityOptions, type GatewayLog } from './gateway-identity.js';

export { GATEWAY_PATH, gatewaySpiffeId, openGatewayIdentity, type GatewayIdentity, type GatewayIdentityOptions, type GatewayLog } from './gateway-identity.js';

export interface GatewayOptions extends GatewayIdentityOptions {
  /** more gRPC services on the control listener (admin API, health, reflection) */
  extraServices?: (server: grpc.Server, ctx: ControlContext) => void;
}

export interface Gateway {
  config: Config;
  authority: CertificateAuthority;
  control: ControlServer;
  /** the gateway's current SVID (changes on rotation) */
  credentials(): GatewayCredentials;
  /** called after every gateway SVID rotation (the control listener is already updated); returns unsubscribe */
  onCredentials(listener: (c: GatewayCredentials) => void): () => void;
  /** rotate the gateway SVID now (also used by the timer) */
  rotateCredentials(): Promise<GatewayCredentials>;
  close(): Promise<void>;
}

export interface ControlListenerOptions {
  now?: () => number;
  log?: GatewayLog;
  extraServices?: (server: grpc.Server, ctx: ControlContext) => void;
}

/**
 * The control listener on listen.control with the gateway's SVID, swapping its TLS context on every
 * rotation. Subscribe it before anything else follows the rotation: "the control listener is already
 * updated" when the others hear of it.
 */
export async function startControlListener(config: Config, identity: GatewayIdentity, opts: ControlListenerOptions): Promise<ControlServer> {
  const control = await startControlServer({
    authority: identity.authority,
    credentials: () => identity.credentials(),
    listen: config.listen.control,
    now: opts.now,
    log: opts.log,
    extraServices: opts.extraServices,
    handshakeTimeoutMs: config.timeouts.handshake,
    idleMs: config.timeouts.controlIdle,
    maxUnauthenticated: connectionCaps(config).controlUnauthenticated,
    unauthenticatedLifetimeMs: config.timeouts.controlUnauthenticated,
  });
  identity.onCredentials(() => control.reloadCredentials());
  return control;
}

/** The Gateway view of an identity and its control listener; close() stops rotation, the listener, then the CA. */
export function gatewayOf(config: Config, identity: GatewayIdentity, control: ControlServer): Gateway {
  let closed = false;
  return {
    config,
    authority: identity.authority,
    control,
    credentials: () => identity.credentials(),
    onCredentials: (listener) => identity.onCredentials(listener),
    rotateCredentials: () => identity.rotateCredentials(),
    async close() {
      if (closed) return;
      closed = true;
      // reverse order: listeners first, the CA last
      identity.stopRotation();
      await control.close(config.timeouts.shutdown);
      await identity.close();
    },
  };
}

export async function startGateway(config: Config, opts: GatewayOptions): Promise<Gateway> {
  // 1. the identity
  const identity = await openGatewayIdentity(config, opts);
  try {
    // 2. control listener
    const control = await startControlListener(config, identity, opts);
    return gatewayOf(config, identity, control);
  } catch (err) {
    await identity.close();
    throw err;
  }
}
