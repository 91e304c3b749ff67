// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface ResetSettingsResponse {
  /**
   * the sections that now come from the config file again
   */
  'reset'?: (string)[];
  'agentsVersion'?: (number | string | Long);
  'policyVersion'?: (number | string | Long);
  'limitsVersion'?: (number | string | Long);
}

export interface ResetSettingsResponse__Output {
  /**
   * the sections that now come from the config file again
   */
  'reset': (string)[];
  'agentsVersion': (number);
  'policyVersion': (number);
  'limitsVersion': (number);
}
