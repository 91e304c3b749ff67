/**
 * tollgate.v1.Identity (proto/tollgate/v1/identity.proto) as both sides see it: the client constructor
 * agents use, the definition the control listener serves, and the message types (generated/). `Foo` is
 * what a side sends (fields optional), `Foo__Output` what it receives (decoded with defaults: complete).
 */
import type * as grpc from '@grpc/grpc-js';
import type { ProtoGrpcType } from './generated/identity.js';
import type { IdentityDefinition } from './generated/tollgate/v1/Identity.js';
import { IDENTITY_PROTO, loadProto, protoRoot } from './protos.js';
import { lazyServiceDefinition, UNARY, type MethodNames, type MethodShape } from './lazy-definition.js';

export type { IdentityClient, IdentityDefinition, IdentityHandlers } from './generated/tollgate/v1/Identity.js';
export type { BootstrapRequest, BootstrapRequest__Output } from './generated/tollgate/v1/BootstrapRequest.js';
export type { RenewRequest, RenewRequest__Output } from './generated/tollgate/v1/RenewRequest.js';
export type { SvidResponse, SvidResponse__Output } from './generated/tollgate/v1/SvidResponse.js';
export type { TrustBundle, TrustBundle__Output } from './generated/tollgate/v1/TrustBundle.js';
export type { RevocationsRequest, RevocationsRequest__Output } from './generated/tollgate/v1/RevocationsRequest.js';
export type { Revocations, Revocations__Output } from './generated/tollgate/v1/Revocations.js';
export type { Revocation, Revocation__Output } from './generated/tollgate/v1/Revocation.js';
export type { Empty, Empty__Output } from './generated/tollgate/v1/Empty.js';

export { IDENTITY_PROTO };
export const IDENTITY_SERVICE_NAME = 'tollgate.v1.Identity';

export type IdentityClientConstructor = ProtoGrpcType['tollgate']['v1']['Identity'];

export function identityClientConstructor(): IdentityClientConstructor {
  return (loadProto(IDENTITY_PROTO) as ProtoGrpcType).tollgate.v1.Identity;
}

export function identityServiceDefinition(): IdentityDefinition {
  return identityClientConstructor().service;
}

/** The methods of identity.proto by shape (checked against the parsed file by test/control/lazy-definition). */
export const IDENTITY_METHODS: Readonly<Record<MethodNames<IdentityDefinition>, MethodShape>> = {
  Bootstrap: UNARY,
  Renew: UNARY,
  GetTrustBundle: UNARY,
  GetRevocations: UNARY,
};

/**
 * What the control listener registers: identityServiceDefinition() with identity.proto parsed on the first
 * call instead of at start (protocol/lazy-definition.ts). A missing proto/ folder still fails at start.
 */
export function identityServerDefinition(): grpc.ServiceDefinition {
  protoRoot();
  return lazyServiceDefinition(IDENTITY_SERVICE_NAME, IDENTITY_METHODS, identityServiceDefinition);
}
