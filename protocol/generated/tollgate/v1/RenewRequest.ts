// Original file: proto/tollgate/v1/identity.proto


export interface RenewRequest {
  /**
   * PKCS#10, DER
   */
  'csr'?: (Buffer | Uint8Array | string);
}

export interface RenewRequest__Output {
  /**
   * PKCS#10, DER
   */
  'csr': (Buffer);
}
