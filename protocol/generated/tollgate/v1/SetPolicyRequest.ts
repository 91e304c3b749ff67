// Original file: proto/tollgate/v1/admin.proto

import type { PolicyRule as _tollgate_v1_PolicyRule, PolicyRule__Output as _tollgate_v1_PolicyRule__Output } from '../../tollgate/v1/PolicyRule.js';
import type { Long } from '@grpc/proto-loader';

/**
 * `version` is required: the version GetPolicy returned (the rules are replaced as a whole).
 * shadow: replace the shadow rules instead; the enforced rules stay as they are.
 */
export interface SetPolicyRequest {
  'version'?: (number | string | Long);
  'rules'?: (_tollgate_v1_PolicyRule)[];
  'shadow'?: (boolean);
}

/**
 * `version` is required: the version GetPolicy returned (the rules are replaced as a whole).
 * shadow: replace the shadow rules instead; the enforced rules stay as they are.
 */
export interface SetPolicyRequest__Output {
  'version': (number);
  'rules': (_tollgate_v1_PolicyRule__Output)[];
  'shadow': (boolean);
}
