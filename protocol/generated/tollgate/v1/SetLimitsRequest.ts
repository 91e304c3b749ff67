// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * `version` is required (from GetLimits). An empty JSON string leaves that section as it is.
 * Durations come back as milliseconds; on input both "15m" and 900000 are accepted.
 * shadow: rate_limits_json replaces the shadow rate limits instead (delegation_json must then be empty).
 */
export interface SetLimitsRequest {
  'version'?: (number | string | Long);
  'rateLimitsJson'?: (string);
  'delegationJson'?: (string);
  'shadow'?: (boolean);
}

/**
 * `version` is required (from GetLimits). An empty JSON string leaves that section as it is.
 * Durations come back as milliseconds; on input both "15m" and 900000 are accepted.
 * shadow: rate_limits_json replaces the shadow rate limits instead (delegation_json must then be empty).
 */
export interface SetLimitsRequest__Output {
  'version': (number);
  'rateLimitsJson': (string);
  'delegationJson': (string);
  'shadow': (boolean);
}
