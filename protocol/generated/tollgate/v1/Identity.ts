// Original file: proto/tollgate/v1/identity.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BootstrapRequest as _tollgate_v1_BootstrapRequest, BootstrapRequest__Output as _tollgate_v1_BootstrapRequest__Output } from '../../tollgate/v1/BootstrapRequest.js';
import type { Empty as _tollgate_v1_Empty, Empty__Output as _tollgate_v1_Empty__Output } from '../../tollgate/v1/Empty.js';
import type { RenewRequest as _tollgate_v1_RenewRequest, RenewRequest__Output as _tollgate_v1_RenewRequest__Output } from '../../tollgate/v1/RenewRequest.js';
import type { Revocations as _tollgate_v1_Revocations, Revocations__Output as _tollgate_v1_Revocations__Output } from '../../tollgate/v1/Revocations.js';
import type { RevocationsRequest as _tollgate_v1_RevocationsRequest, RevocationsRequest__Output as _tollgate_v1_RevocationsRequest__Output } from '../../tollgate/v1/RevocationsRequest.js';
import type { SvidResponse as _tollgate_v1_SvidResponse, SvidResponse__Output as _tollgate_v1_SvidResponse__Output } from '../../tollgate/v1/SvidResponse.js';
import type { TrustBundle as _tollgate_v1_TrustBundle, TrustBundle__Output as _tollgate_v1_TrustBundle__Output } from '../../tollgate/v1/TrustBundle.js';

export interface IdentityClient extends grpc.Client {
  /**
   * Redeem a single-use join token for a first SVID. Needs no client certificate.
   * The CA sets the SPIFFE ID from the token and ignores any SAN the CSR asks for.
   */
  Bootstrap(argument: _tollgate_v1_BootstrapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  Bootstrap(argument: _tollgate_v1_BootstrapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  Bootstrap(argument: _tollgate_v1_BootstrapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  Bootstrap(argument: _tollgate_v1_BootstrapRequest, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Redeem a single-use join token for a first SVID. Needs no client certificate.
   * The CA sets the SPIFFE ID from the token and ignores any SAN the CSR asks for.
   */
  bootstrap(argument: _tollgate_v1_BootstrapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  bootstrap(argument: _tollgate_v1_BootstrapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  bootstrap(argument: _tollgate_v1_BootstrapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  bootstrap(argument: _tollgate_v1_BootstrapRequest, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The revocation log after a cursor, for relying parties outside the gateway (agent servers check the
   * gateway's certificate against it). Needs a valid client SVID. Ask again with `cursor` while `more`.
   */
  GetRevocations(argument: _tollgate_v1_RevocationsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Revocations__Output>): grpc.ClientUnaryCall;
  GetRevocations(argument: _tollgate_v1_RevocationsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Revocations__Output>): grpc.ClientUnaryCall;
  GetRevocations(argument: _tollgate_v1_RevocationsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Revocations__Output>): grpc.ClientUnaryCall;
  GetRevocations(argument: _tollgate_v1_RevocationsRequest, callback: grpc.requestCallback<_tollgate_v1_Revocations__Output>): grpc.ClientUnaryCall;
  /**
   * The revocation log after a cursor, for relying parties outside the gateway (agent servers check the
   * gateway's certificate against it). Needs a valid client SVID. Ask again with `cursor` while `more`.
   */
  getRevocations(argument: _tollgate_v1_RevocationsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Revocations__Output>): grpc.ClientUnaryCall;
  getRevocations(argument: _tollgate_v1_RevocationsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_Revocations__Output>): grpc.ClientUnaryCall;
  getRevocations(argument: _tollgate_v1_RevocationsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_Revocations__Output>): grpc.ClientUnaryCall;
  getRevocations(argument: _tollgate_v1_RevocationsRequest, callback: grpc.requestCallback<_tollgate_v1_Revocations__Output>): grpc.ClientUnaryCall;
  
  /**
   * The trust bundle (root certificate(s)). Needs no client certificate; callers must check the root
   * against a fingerprint they got out of band before trusting it.
   */
  GetTrustBundle(argument: _tollgate_v1_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_TrustBundle__Output>): grpc.ClientUnaryCall;
  GetTrustBundle(argument: _tollgate_v1_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_TrustBundle__Output>): grpc.ClientUnaryCall;
  GetTrustBundle(argument: _tollgate_v1_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_TrustBundle__Output>): grpc.ClientUnaryCall;
  GetTrustBundle(argument: _tollgate_v1_Empty, callback: grpc.requestCallback<_tollgate_v1_TrustBundle__Output>): grpc.ClientUnaryCall;
  /**
   * The trust bundle (root certificate(s)). Needs no client certificate; callers must check the root
   * against a fingerprint they got out of band before trusting it.
   */
  getTrustBundle(argument: _tollgate_v1_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_TrustBundle__Output>): grpc.ClientUnaryCall;
  getTrustBundle(argument: _tollgate_v1_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_TrustBundle__Output>): grpc.ClientUnaryCall;
  getTrustBundle(argument: _tollgate_v1_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_TrustBundle__Output>): grpc.ClientUnaryCall;
  getTrustBundle(argument: _tollgate_v1_Empty, callback: grpc.requestCallback<_tollgate_v1_TrustBundle__Output>): grpc.ClientUnaryCall;
  
  /**
   * Renew with the current SVID as the TLS client certificate (mTLS). The CSR must carry a new key.
   */
  Renew(argument: _tollgate_v1_RenewRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  Renew(argument: _tollgate_v1_RenewRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  Renew(argument: _tollgate_v1_RenewRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  Renew(argument: _tollgate_v1_RenewRequest, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Renew with the current SVID as the TLS client certificate (mTLS). The CSR must carry a new key.
   */
  renew(argument: _tollgate_v1_RenewRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  renew(argument: _tollgate_v1_RenewRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  renew(argument: _tollgate_v1_RenewRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  renew(argument: _tollgate_v1_RenewRequest, callback: grpc.requestCallback<_tollgate_v1_SvidResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface IdentityHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Redeem a single-use join token for a first SVID. Needs no client certificate.
   * The CA sets the SPIFFE ID from the token and ignores any SAN the CSR asks for.
   */
  Bootstrap: grpc.handleUnaryCall<_tollgate_v1_BootstrapRequest__Output, _tollgate_v1_SvidResponse>;
  
  /**
   * The revocation log after a cursor, for relying parties outside the gateway (agent servers check the
   * gateway's certificate against it). Needs a valid client SVID. Ask again with `cursor` while `more`.
   */
  GetRevocations: grpc.handleUnaryCall<_tollgate_v1_RevocationsRequest__Output, _tollgate_v1_Revocations>;
  
  /**
   * The trust bundle (root certificate(s)). Needs no client certificate; callers must check the root
   * against a fingerprint they got out of band before trusting it.
   */
  GetTrustBundle: grpc.handleUnaryCall<_tollgate_v1_Empty__Output, _tollgate_v1_TrustBundle>;
  
  /**
   * Renew with the current SVID as the TLS client certificate (mTLS). The CSR must carry a new key.
   */
  Renew: grpc.handleUnaryCall<_tollgate_v1_RenewRequest__Output, _tollgate_v1_SvidResponse>;
  
}

export interface IdentityDefinition extends grpc.ServiceDefinition {
  Bootstrap: MethodDefinition<_tollgate_v1_BootstrapRequest, _tollgate_v1_SvidResponse, _tollgate_v1_BootstrapRequest__Output, _tollgate_v1_SvidResponse__Output>
  GetRevocations: MethodDefinition<_tollgate_v1_RevocationsRequest, _tollgate_v1_Revocations, _tollgate_v1_RevocationsRequest__Output, _tollgate_v1_Revocations__Output>
  GetTrustBundle: MethodDefinition<_tollgate_v1_Empty, _tollgate_v1_TrustBundle, _tollgate_v1_Empty__Output, _tollgate_v1_TrustBundle__Output>
  Renew: MethodDefinition<_tollgate_v1_RenewRequest, _tollgate_v1_SvidResponse, _tollgate_v1_RenewRequest__Output, _tollgate_v1_SvidResponse__Output>
}
