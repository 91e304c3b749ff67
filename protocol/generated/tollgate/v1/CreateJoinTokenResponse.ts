// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface CreateJoinTokenResponse {
  'token'?: (string);
  'expiresAtUnixMs'?: (number | string | Long);
  'spiffeId'?: (string);
}

export interface CreateJoinTokenResponse__Output {
  'token': (string);
  'expiresAtUnixMs': (number);
  'spiffeId': (string);
}
