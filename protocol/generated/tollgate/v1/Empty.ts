// Original file: proto/tollgate/v1/identity.proto


export interface Empty {
}

export interface Empty__Output {
}
