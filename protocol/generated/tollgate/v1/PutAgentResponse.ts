// Original file: proto/tollgate/v1/admin.proto

import type { Agent as _tollgate_v1_Agent, Agent__Output as _tollgate_v1_Agent__Output } from '../../tollgate/v1/Agent.js';
import type { Long } from '@grpc/proto-loader';

export interface PutAgentResponse {
  'agent'?: (_tollgate_v1_Agent | null);
  'version'?: (number | string | Long);
  'created'?: (boolean);
}

export interface PutAgentResponse__Output {
  'agent': (_tollgate_v1_Agent__Output | null);
  'version': (number);
  'created': (boolean);
}
