// Original file: proto/tollgate/v1/admin.proto

import type { Agent as _tollgate_v1_Agent, Agent__Output as _tollgate_v1_Agent__Output } from '../../tollgate/v1/Agent.js';
import type { Long } from '@grpc/proto-loader';

export interface ListAgentsResponse {
  'agents'?: (_tollgate_v1_Agent)[];
  'version'?: (number | string | Long);
}

export interface ListAgentsResponse__Output {
  'agents': (_tollgate_v1_Agent__Output)[];
  'version': (number);
}
