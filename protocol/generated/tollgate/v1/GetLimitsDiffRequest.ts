// Original file: proto/tollgate/v1/admin.proto


/**
 * Calls the shadow rate limits would decide differently, counted on the replica that answers since the rate
 * limits or their shadow last changed. The answer's version is the limits version; active / shadow of a
 * call are "allowed" or the limit that refuses (caller, edge, concurrency).
 */
export interface GetLimitsDiffRequest {
  'limit'?: (number);
}

/**
 * Calls the shadow rate limits would decide differently, counted on the replica that answers since the rate
 * limits or their shadow last changed. The answer's version is the limits version; active / shadow of a
 * call are "allowed" or the limit that refuses (caller, edge, concurrency).
 */
export interface GetLimitsDiffRequest__Output {
  'limit': (number);
}
