// Original file: proto/tollgate/v1/admin.proto


export interface CreateJoinTokenRequest {
  'spiffeId'?: (string);
  'ttl'?: (string);
}

export interface CreateJoinTokenRequest__Output {
  'spiffeId': (string);
  'ttl': (string);
}
