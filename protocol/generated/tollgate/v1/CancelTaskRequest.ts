// Original file: proto/tollgate/v1/admin.proto


export interface CancelTaskRequest {
  'taskId'?: (string);
  'reason'?: (string);
}

export interface CancelTaskRequest__Output {
  'taskId': (string);
  'reason': (string);
}
