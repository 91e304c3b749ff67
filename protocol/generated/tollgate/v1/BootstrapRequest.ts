// Original file: proto/tollgate/v1/identity.proto


export interface BootstrapRequest {
  'token'?: (string);
  /**
   * PKCS#10, DER
   */
  'csr'?: (Buffer | Uint8Array | string);
}

export interface BootstrapRequest__Output {
  'token': (string);
  /**
   * PKCS#10, DER
   */
  'csr': (Buffer);
}
