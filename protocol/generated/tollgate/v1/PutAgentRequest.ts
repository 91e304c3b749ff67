// Original file: proto/tollgate/v1/admin.proto

import type { Agent as _tollgate_v1_Agent, Agent__Output as _tollgate_v1_Agent__Output } from '../../tollgate/v1/Agent.js';
import type { Long } from '@grpc/proto-loader';

/**
 * A put or remove touches one agent, so the version check is optional: set expected_version to make the
 * write conditional on the registry being unchanged since you listed it.
 */
export interface PutAgentRequest {
  'agent'?: (_tollgate_v1_Agent | null);
  'expectedVersion'?: (number | string | Long);
  '_expectedVersion'?: "expectedVersion";
}

/**
 * A put or remove touches one agent, so the version check is optional: set expected_version to make the
 * write conditional on the registry being unchanged since you listed it.
 */
export interface PutAgentRequest__Output {
  'agent': (_tollgate_v1_Agent__Output | null);
  'expectedVersion'?: (number);
  '_expectedVersion'?: "expectedVersion";
}
