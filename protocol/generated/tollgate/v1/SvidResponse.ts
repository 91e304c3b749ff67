// Original file: proto/tollgate/v1/identity.proto

import type { Long } from '@grpc/proto-loader';

export interface SvidResponse {
  'spiffeId'?: (string);
  /**
   * leaf then intermediate
   */
  'certChainPem'?: (string);
  /**
   * trust bundle roots
   */
  'bundlePem'?: (string);
  'notBeforeUnixMs'?: (number | string | Long);
  'notAfterUnixMs'?: (number | string | Long);
  /**
   * lowercase hex, no separators
   */
  'serial'?: (string);
}

export interface SvidResponse__Output {
  'spiffeId': (string);
  /**
   * leaf then intermediate
   */
  'certChainPem': (string);
  /**
   * trust bundle roots
   */
  'bundlePem': (string);
  'notBeforeUnixMs': (number);
  'notAfterUnixMs': (number);
  /**
   * lowercase hex, no separators
   */
  'serial': (string);
}
