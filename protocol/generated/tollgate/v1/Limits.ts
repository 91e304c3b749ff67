// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Limits travel as JSON documents validated by the same zod schemas as the config file
 * (config `rateLimits` and `delegation` sections), so the two can never drift apart.
 * has_shadow: shadow rate limits are set, shadow_rate_limits_json holds them (config `shadowRateLimits`).
 */
export interface Limits {
  'version'?: (number | string | Long);
  'rateLimitsJson'?: (string);
  'delegationJson'?: (string);
  'hasShadow'?: (boolean);
  'shadowRateLimitsJson'?: (string);
}

/**
 * Limits travel as JSON documents validated by the same zod schemas as the config file
 * (config `rateLimits` and `delegation` sections), so the two can never drift apart.
 * has_shadow: shadow rate limits are set, shadow_rate_limits_json holds them (config `shadowRateLimits`).
 */
export interface Limits__Output {
  'version': (number);
  'rateLimitsJson': (string);
  'delegationJson': (string);
  'hasShadow': (boolean);
  'shadowRateLimitsJson': (string);
}
