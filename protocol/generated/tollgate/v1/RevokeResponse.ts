// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * certificates_revoked: for a serial, 1.
 */
export interface RevokeResponse {
  'certificatesRevoked'?: (number | string | Long);
}

/**
 * certificates_revoked: for a serial, 1.
 */
export interface RevokeResponse__Output {
  'certificatesRevoked': (number);
}
