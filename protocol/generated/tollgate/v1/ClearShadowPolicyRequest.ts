// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface ClearShadowPolicyRequest {
  'version'?: (number | string | Long);
}

export interface ClearShadowPolicyRequest__Output {
  'version': (number);
}
