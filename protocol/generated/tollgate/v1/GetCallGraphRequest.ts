// Original file: proto/tollgate/v1/admin.proto


/**
 * task_id empty = the aggregate caller -> callee graph; format: "json" (default) or "dot". Unknown task: NOT_FOUND.
 */
export interface GetCallGraphRequest {
  'taskId'?: (string);
  'format'?: (string);
}

/**
 * task_id empty = the aggregate caller -> callee graph; format: "json" (default) or "dot". Unknown task: NOT_FOUND.
 */
export interface GetCallGraphRequest__Output {
  'taskId': (string);
  'format': (string);
}
