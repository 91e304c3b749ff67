// Original file: proto/tollgate/v1/admin.proto


export interface CallGraph {
  'json'?: (string);
  'dot'?: (string);
}

export interface CallGraph__Output {
  'json': (string);
  'dot': (string);
}
