// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * `version` is required, as for SetLimits. No shadow rate limits set: FAILED_PRECONDITION.
 */
export interface PromoteShadowLimitsRequest {
  'version'?: (number | string | Long);
}

/**
 * `version` is required, as for SetLimits. No shadow rate limits set: FAILED_PRECONDITION.
 */
export interface PromoteShadowLimitsRequest__Output {
  'version': (number);
}
