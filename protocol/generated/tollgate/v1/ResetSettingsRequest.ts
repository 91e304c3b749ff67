// Original file: proto/tollgate/v1/admin.proto


/**
 * sections: "agents", "policy", "limits"; empty = all three. Applied together (the result must validate as
 * a whole); a section that was not saved (or already reset) is left as it is.
 */
export interface ResetSettingsRequest {
  'sections'?: (string)[];
}

/**
 * sections: "agents", "policy", "limits"; empty = all three. Applied together (the result must validate as
 * a whole); a section that was not saved (or already reset) is left as it is.
 */
export interface ResetSettingsRequest__Output {
  'sections': (string)[];
}
