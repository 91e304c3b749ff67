// Original file: proto/tollgate/v1/admin.proto


/**
 * A described call: from = the caller's SPIFFE ID, to = the callee agent, method = an A2A method (v0.3 or
 * v1.0 name, or PushNotification; empty = SendMessage), chain = the delegation chain before the caller,
 * initiator first. shadow: explain with the shadow rules in place of the policy.
 */
export interface ExplainPolicyRequest {
  'from'?: (string);
  'to'?: (string);
  'method'?: (string);
  'chain'?: (string)[];
  'shadow'?: (boolean);
}

/**
 * A described call: from = the caller's SPIFFE ID, to = the callee agent, method = an A2A method (v0.3 or
 * v1.0 name, or PushNotification; empty = SendMessage), chain = the delegation chain before the caller,
 * initiator first. shadow: explain with the shadow rules in place of the policy.
 */
export interface ExplainPolicyRequest__Output {
  'from': (string);
  'to': (string);
  'method': (string);
  'chain': (string)[];
  'shadow': (boolean);
}
