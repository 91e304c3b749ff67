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
   * empty = all methods
   */
  'methods'?: (string)[];
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
   * empty = all methods
   */
  'methods': (string)[];
}
