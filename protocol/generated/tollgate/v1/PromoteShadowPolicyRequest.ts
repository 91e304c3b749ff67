// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * `version` is required, as for SetPolicy. No shadow rules set: FAILED_PRECONDITION.
 */
export interface PromoteShadowPolicyRequest {
  'version'?: (number | string | Long);
}

/**
 * `version` is required, as for SetPolicy. No shadow rules set: FAILED_PRECONDITION.
 */
export interface PromoteShadowPolicyRequest__Output {
  'version': (number);
}
