// Original file: proto/tollgate/v1/admin.proto


export interface GetPolicyRequest {
}

export interface GetPolicyRequest__Output {
}
