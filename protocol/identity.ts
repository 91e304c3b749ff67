/**
 * tollgate.v1.Identity (proto/tollgate/v1/identity.proto) as both sides see it: the client constructor
 * agents use, the definition the control listener serves, and the message types (generated/). `Foo` is
 * what a side sends (fields optional), `Foo__Output` what it receives (decoded with defaults: complete).
 */
import type { ProtoGrpcType } from './generated/identity.js';
import type { IdentityDefinition } from './generated/tollgate/v1/Identity.js';
import { IDENTITY_PROTO, loadProto } from './protos.js';

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
