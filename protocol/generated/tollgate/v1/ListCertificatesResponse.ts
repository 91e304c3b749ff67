// Original file: proto/tollgate/v1/admin.proto

import type { Certificate as _tollgate_v1_Certificate, Certificate__Output as _tollgate_v1_Certificate__Output } from '../../tollgate/v1/Certificate.js';

export interface ListCertificatesResponse {
  'certificates'?: (_tollgate_v1_Certificate)[];
}

export interface ListCertificatesResponse__Output {
  'certificates': (_tollgate_v1_Certificate__Output)[];
}
