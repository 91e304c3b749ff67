// Original file: proto/tollgate/v1/admin.proto


export interface CancelTaskResponse {
  'cancelled'?: (boolean);
}

export interface CancelTaskResponse__Output {
  'cancelled': (boolean);
}
