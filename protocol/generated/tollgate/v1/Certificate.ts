// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface Certificate {
  'serial'?: (string);
  'spiffeId'?: (string);
  'notBeforeUnixMs'?: (number | string | Long);
  'notAfterUnixMs'?: (number | string | Long);
  'issuedAtUnixMs'?: (number | string | Long);
  'revoked'?: (boolean);
}

export interface Certificate__Output {
  'serial': (string);
  'spiffeId': (string);
  'notBeforeUnixMs': (number);
  'notAfterUnixMs': (number);
  'issuedAtUnixMs': (number);
  'revoked': (boolean);
}
