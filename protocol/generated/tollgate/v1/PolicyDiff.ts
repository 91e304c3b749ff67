// Original file: proto/tollgate/v1/admin.proto

import type { PolicyDiffCount as _tollgate_v1_PolicyDiffCount, PolicyDiffCount__Output as _tollgate_v1_PolicyDiffCount__Output } from '../../tollgate/v1/PolicyDiffCount.js';
import type { PolicyDiffCall as _tollgate_v1_PolicyDiffCall, PolicyDiffCall__Output as _tollgate_v1_PolicyDiffCall__Output } from '../../tollgate/v1/PolicyDiffCall.js';
import type { Long } from '@grpc/proto-loader';

export interface PolicyDiff {
  'hasShadow'?: (boolean);
  'version'?: (number | string | Long);
  'sinceUnixMs'?: (number | string | Long);
  'evaluated'?: (number | string | Long);
  'counts'?: (_tollgate_v1_PolicyDiffCount)[];
  'recent'?: (_tollgate_v1_PolicyDiffCall)[];
}

export interface PolicyDiff__Output {
  'hasShadow': (boolean);
  'version': (number);
  'sinceUnixMs': (number);
  'evaluated': (number);
  'counts': (_tollgate_v1_PolicyDiffCount__Output)[];
  'recent': (_tollgate_v1_PolicyDiffCall__Output)[];
}
