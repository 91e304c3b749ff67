// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface ClearShadowLimitsRequest {
  'version'?: (number | string | Long);
}

export interface ClearShadowLimitsRequest__Output {
  'version': (number);
}
