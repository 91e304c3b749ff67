// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface RemoveAgentRequest {
  'name'?: (string);
  'expectedVersion'?: (number | string | Long);
  '_expectedVersion'?: "expectedVersion";
}

export interface RemoveAgentRequest__Output {
  'name': (string);
  'expectedVersion'?: (number);
  '_expectedVersion'?: "expectedVersion";
}
