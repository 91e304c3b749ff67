// Original file: proto/tollgate/v1/admin.proto

import type { AgentLimits as _tollgate_v1_AgentLimits, AgentLimits__Output as _tollgate_v1_AgentLimits__Output } from '../../tollgate/v1/AgentLimits.js';

export interface Agent {
  'name'?: (string);
  'url'?: (string);
  /**
   * SPIFFE ID the upstream must present
   */
  'id'?: (string);
  'requireDelegationContext'?: (boolean);
  'maxRevisits'?: (number);
  'limits'?: (_tollgate_v1_AgentLimits | null);
}

export interface Agent__Output {
  'name': (string);
  'url': (string);
  /**
   * SPIFFE ID the upstream must present
   */
  'id': (string);
  'requireDelegationContext': (boolean);
  'maxRevisits': (number);
  'limits': (_tollgate_v1_AgentLimits__Output | null);
}
