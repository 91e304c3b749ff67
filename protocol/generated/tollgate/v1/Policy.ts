// Original file: proto/tollgate/v1/admin.proto

import type { PolicyRule as _tollgate_v1_PolicyRule, PolicyRule__Output as _tollgate_v1_PolicyRule__Output } from '../../tollgate/v1/PolicyRule.js';
import type { Long } from '@grpc/proto-loader';

/**
 * has_shadow: shadow rules are set (shadow_rules may then be empty: a shadow that denies everything).
 */
export interface Policy {
  'version'?: (number | string | Long);
  'rules'?: (_tollgate_v1_PolicyRule)[];
  'hasShadow'?: (boolean);
  'shadowRules'?: (_tollgate_v1_PolicyRule)[];
}

/**
 * has_shadow: shadow rules are set (shadow_rules may then be empty: a shadow that denies everything).
 */
export interface Policy__Output {
  'version': (number);
  'rules': (_tollgate_v1_PolicyRule__Output)[];
  'hasShadow': (boolean);
  'shadowRules': (_tollgate_v1_PolicyRule__Output)[];
}
