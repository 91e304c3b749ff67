// Original file: proto/tollgate/v1/admin.proto


export interface RevokeRequest {
  'spiffeId'?: (string);
  'serial'?: (string);
  'reason'?: (string);
}

export interface RevokeRequest__Output {
  'spiffeId': (string);
  'serial': (string);
  'reason': (string);
}
