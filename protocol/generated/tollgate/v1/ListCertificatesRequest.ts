// Original file: proto/tollgate/v1/admin.proto


export interface ListCertificatesRequest {
  'spiffeId'?: (string);
  'limit'?: (number);
}

export interface ListCertificatesRequest__Output {
  'spiffeId': (string);
  'limit': (number);
}
