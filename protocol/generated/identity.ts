import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { BootstrapRequest as _tollgate_v1_BootstrapRequest, BootstrapRequest__Output as _tollgate_v1_BootstrapRequest__Output } from './tollgate/v1/BootstrapRequest.js';
import type { Empty as _tollgate_v1_Empty, Empty__Output as _tollgate_v1_Empty__Output } from './tollgate/v1/Empty.js';
import type { IdentityClient as _tollgate_v1_IdentityClient, IdentityDefinition as _tollgate_v1_IdentityDefinition } from './tollgate/v1/Identity.js';
import type { RenewRequest as _tollgate_v1_RenewRequest, RenewRequest__Output as _tollgate_v1_RenewRequest__Output } from './tollgate/v1/RenewRequest.js';
import type { Revocation as _tollgate_v1_Revocation, Revocation__Output as _tollgate_v1_Revocation__Output } from './tollgate/v1/Revocation.js';
import type { Revocations as _tollgate_v1_Revocations, Revocations__Output as _tollgate_v1_Revocations__Output } from './tollgate/v1/Revocations.js';
import type { RevocationsRequest as _tollgate_v1_RevocationsRequest, RevocationsRequest__Output as _tollgate_v1_RevocationsRequest__Output } from './tollgate/v1/RevocationsRequest.js';
import type { SvidResponse as _tollgate_v1_SvidResponse, SvidResponse__Output as _tollgate_v1_SvidResponse__Output } from './tollgate/v1/SvidResponse.js';
import type { TrustBundle as _tollgate_v1_TrustBundle, TrustBundle__Output as _tollgate_v1_TrustBundle__Output } from './tollgate/v1/TrustBundle.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tollgate: {
    v1: {
      BootstrapRequest: MessageTypeDefinition<_tollgate_v1_BootstrapRequest, _tollgate_v1_BootstrapRequest__Output>
      Empty: MessageTypeDefinition<_tollgate_v1_Empty, _tollgate_v1_Empty__Output>
      Identity: SubtypeConstructor<typeof grpc.Client, _tollgate_v1_IdentityClient> & { service: _tollgate_v1_IdentityDefinition }
      RenewRequest: MessageTypeDefinition<_tollgate_v1_RenewRequest, _tollgate_v1_RenewRequest__Output>
      Revocation: MessageTypeDefinition<_tollgate_v1_Revocation, _tollgate_v1_Revocation__Output>
      Revocations: MessageTypeDefinition<_tollgate_v1_Revocations, _tollgate_v1_Revocations__Output>
      RevocationsRequest: MessageTypeDefinition<_tollgate_v1_RevocationsRequest, _tollgate_v1_RevocationsRequest__Output>
      SvidResponse: MessageTypeDefinition<_tollgate_v1_SvidResponse, _tollgate_v1_SvidResponse__Output>
      TrustBundle: MessageTypeDefinition<_tollgate_v1_TrustBundle, _tollgate_v1_TrustBundle__Output>
    }
  }
}

