// Original file: proto/tollgate/v1/admin.proto


/**
 * Calls the shadow rules would decide differently, counted on the replica that answers since the policy
 * or its shadow last changed: would_deny (allowed now, the shadow would refuse) and would_allow.
 */
export interface GetPolicyDiffRequest {
  'limit'?: (number);
}

/**
 * Calls the shadow rules would decide differently, counted on the replica that answers since the policy
 * or its shadow last changed: would_deny (allowed now, the shadow would refuse) and would_allow.
 */
export interface GetPolicyDiffRequest__Output {
  'limit': (number);
}
