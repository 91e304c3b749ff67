// Original file: proto/tollgate/v1/admin.proto


export interface GetLimitsRequest {
}

export interface GetLimitsRequest__Output {
}
