// Original file: proto/tollgate/v1/admin.proto


export interface PolicyRule {
  /**
   * exact SPIFFE ID or trailing /*
   */
  'from'?: (string)[];
  /**
   * agent names or "*"
   */
  'to'?: (string)[];
  /**
   * empty = every A2A method
   */
  'methods'?: (string)[];
  /**
   * also requests that are not A2A methods
   */
  'nonA2a'?: (boolean);
  /**
   * Conditions on the delegation chain behind the call, as JSON validated by the config schema's
   * `policy[].chain` ({"initiator":[...],"via":[...],"notVia":[...],"maxDepth":n}); empty = none.
   */
  'chainJson'?: (string);
}

export interface PolicyRule__Output {
  /**
   * exact SPIFFE ID or trailing /*
   */
  'from': (string)[];
  /**
   * agent names or "*"
   */
  'to': (string)[];
  /**
   * empty = every A2A method
   */
  'methods': (string)[];
  /**
   * also requests that are not A2A methods
   */
  'nonA2a': (boolean);
  /**
   * Conditions on the delegation chain behind the call, as JSON validated by the config schema's
   * `policy[].chain` ({"initiator":[...],"via":[...],"notVia":[...],"maxDepth":n}); empty = none.
   */
  'chainJson': (string);
}
