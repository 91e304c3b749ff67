// Original file: proto/tollgate/v1/identity.proto

import type { Long } from '@grpc/proto-loader';

export interface RevocationsRequest {
  /**
   * the cursor of the previous answer; 0 for everything
   */
  'after'?: (number | string | Long);
}

export interface RevocationsRequest__Output {
  /**
   * the cursor of the previous answer; 0 for everything
   */
  'after': (number);
}
