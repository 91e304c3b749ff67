// Original file: proto/tollgate/v1/identity.proto


export interface TrustBundle {
  'bundlePem'?: (string);
  'trustDomain'?: (string);
  /**
   * sha256:<hex> of the current root's DER (informational: verify it yourself)
   */
  'fingerprint'?: (string);
}

export interface TrustBundle__Output {
  'bundlePem': (string);
  'trustDomain': (string);
  /**
   * sha256:<hex> of the current root's DER (informational: verify it yourself)
   */
  'fingerprint': (string);
}
