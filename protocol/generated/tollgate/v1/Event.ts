// Original file: proto/tollgate/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface Event {
  'timeUnixMs'?: (number | string | Long);
  /**
   * call | refusal | issuance | revocation | config | task
   */
  'kind'?: (string);
  /**
   * SPIFFE ID of the caller / admin
   */
  'actor'?: (string);
  /**
   * callee or subject agent name, when there is one
   */
  'agent'?: (string);
  'summary'?: (string);
  /**
   * the full audit record
   */
  'json'?: (string);
}

export interface Event__Output {
  'timeUnixMs': (number);
  /**
   * call | refusal | issuance | revocation | config | task
   */
  'kind': (string);
  /**
   * SPIFFE ID of the caller / admin
   */
  'actor': (string);
  /**
   * callee or subject agent name, when there is one
   */
  'agent': (string);
  'summary': (string);
  /**
   * the full audit record
   */
  'json': (string);
}
