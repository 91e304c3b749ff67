// Original file: proto/tollgate/v1/identity.proto

import type { Long } from '@grpc/proto-loader';

export interface Revocation {
  'seq'?: (number | string | Long);
  /**
   * "serial", "identity" or "unrevoke_identity"
   */
  'kind'?: (string);
  /**
   * kind "serial": lowercase hex, no separators
   */
  'serial'?: (string);
  'spiffeId'?: (string);
  /**
   * kind "serial": when the certificate expires (it can be forgotten after)
   */
  'notAfterUnixMs'?: (number | string | Long);
}

export interface Revocation__Output {
  'seq': (number);
  /**
   * "serial", "identity" or "unrevoke_identity"
   */
  'kind': (string);
  /**
   * kind "serial": lowercase hex, no separators
   */
  'serial': (string);
  'spiffeId': (string);
  /**
   * kind "serial": when the certificate expires (it can be forgotten after)
   */
  'notAfterUnixMs': (number);
}
