// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * `version` is required (from GetLimits). An empty JSON string leaves that section as it is.
 * Durations come back as milliseconds; on input both "15m" and 900000 are accepted.
 */
export interface SetLimitsRequest {
  'version'?: (number | string | Long);
  'rateLimitsJson'?: (string);
  'delegationJson'?: (string);
}

/**
 * `version` is required (from GetLimits). An empty JSON string leaves that section as it is.
 * Durations come back as milliseconds; on input both "15m" and 900000 are accepted.
 */
export interface SetLimitsRequest__Output {
  'version': (number);
  'rateLimitsJson': (string);
  'delegationJson': (string);
}
