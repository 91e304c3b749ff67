// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface PolicyDiffCall {
  'timeUnixMs'?: (number | string | Long);
  'callerId'?: (string);
  'caller'?: (string);
  'callee'?: (string);
  'method'?: (string);
  'verdict'?: (string);
  'active'?: (string);
  /**
   * active / shadow: "allowed" or the refusal reason
   */
  'shadow'?: (string);
}

export interface PolicyDiffCall__Output {
  'timeUnixMs': (number);
  'callerId': (string);
  'caller': (string);
  'callee': (string);
  'method': (string);
  'verdict': (string);
  'active': (string);
  /**
   * active / shadow: "allowed" or the refusal reason
   */
  'shadow': (string);
}
