// Original file: proto/tollgate/v1/identity.proto

import type { Revocation as _tollgate_v1_Revocation, Revocation__Output as _tollgate_v1_Revocation__Output } from '../../tollgate/v1/Revocation.js';
import type { Long } from '@grpc/proto-loader';

export interface Revocations {
  'revocations'?: (_tollgate_v1_Revocation)[];
  'cursor'?: (number | string | Long);
  'more'?: (boolean);
}

export interface Revocations__Output {
  'revocations': (_tollgate_v1_Revocation__Output)[];
  'cursor': (number);
  'more': (boolean);
}
