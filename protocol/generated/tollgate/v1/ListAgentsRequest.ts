// Original file: proto/tollgate/v1/admin.proto


export interface ListAgentsRequest {
}

export interface ListAgentsRequest__Output {
}
