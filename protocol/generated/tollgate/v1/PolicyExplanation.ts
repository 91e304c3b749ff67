// Original file: proto/tollgate/v1/admin.proto

import type { RuleVerdict as _tollgate_v1_RuleVerdict, RuleVerdict__Output as _tollgate_v1_RuleVerdict__Output } from '../../tollgate/v1/RuleVerdict.js';

export interface PolicyExplanation {
  'allowed'?: (boolean);
  /**
   * allowed | unknown_agent | no_rule | method_not_allowed | not_a2a | chain_not_allowed | loop | depth | context_required
   */
  'reason'?: (string);
  /**
   * e.g. "policy[2]", "delegation.maxDepth"
   */
  'decidedBy'?: (string);
  'message'?: (string);
  /**
   * canonical method the answer assumed
   */
  'method'?: (string);
  /**
   * initiator .. caller
   */
  'chain'?: (string)[];
  /**
   * every rule that names the caller
   */
  'rules'?: (_tollgate_v1_RuleVerdict)[];
  /**
   * limits with live counters that also apply
   */
  'limits'?: (string)[];
}

export interface PolicyExplanation__Output {
  'allowed': (boolean);
  /**
   * allowed | unknown_agent | no_rule | method_not_allowed | not_a2a | chain_not_allowed | loop | depth | context_required
   */
  'reason': (string);
  /**
   * e.g. "policy[2]", "delegation.maxDepth"
   */
  'decidedBy': (string);
  'message': (string);
  /**
   * canonical method the answer assumed
   */
  'method': (string);
  /**
   * initiator .. caller
   */
  'chain': (string)[];
  /**
   * every rule that names the caller
   */
  'rules': (_tollgate_v1_RuleVerdict__Output)[];
  /**
   * limits with live counters that also apply
   */
  'limits': (string)[];
}
