// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface PolicyDiffCount {
  'caller'?: (string);
  'callee'?: (string);
  'verdict'?: (string);
  'count'?: (number | string | Long);
}

export interface PolicyDiffCount__Output {
  'caller': (string);
  'callee': (string);
  'verdict': (string);
  'count': (number);
}
