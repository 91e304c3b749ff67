// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface RemoveAgentResponse {
  'removed'?: (boolean);
  'version'?: (number | string | Long);
}

export interface RemoveAgentResponse__Output {
  'removed': (boolean);
  'version': (number);
}
