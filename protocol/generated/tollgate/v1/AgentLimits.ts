// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface AgentLimits {
  'callsPerMinute'?: (number | string | Long);
  'callsPerHour'?: (number | string | Long);
  'callsPerDay'?: (number | string | Long);
  'costPerDay'?: (number | string);
  '_callsPerMinute'?: "callsPerMinute";
  '_callsPerHour'?: "callsPerHour";
  '_callsPerDay'?: "callsPerDay";
  '_costPerDay'?: "costPerDay";
}

export interface AgentLimits__Output {
  'callsPerMinute'?: (number);
  'callsPerHour'?: (number);
  'callsPerDay'?: (number);
  'costPerDay'?: (number);
  '_callsPerMinute'?: "callsPerMinute";
  '_callsPerHour'?: "callsPerHour";
  '_callsPerDay'?: "callsPerDay";
  '_costPerDay'?: "costPerDay";
}
