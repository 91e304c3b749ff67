// Original file: proto/tollgate/v1/admin.proto


/**
 * Empty lists = everything. `agents` matches an event's agent name, its actor's SPIFFE ID, or the actor's
 * last path segment (spiffe://td/agent/writer matches "writer").
 */
export interface WatchEventsRequest {
  'agents'?: (string)[];
  'kinds'?: (string)[];
}

/**
 * Empty lists = everything. `agents` matches an event's agent name, its actor's SPIFFE ID, or the actor's
 * last path segment (spiffe://td/agent/writer matches "writer").
 */
export interface WatchEventsRequest__Output {
  'agents': (string)[];
  'kinds': (string)[];
}
