// Original file: proto/tollgate/v1/admin.proto


export interface RuleVerdict {
  'rule'?: (number);
  'verdict'?: (string);
  'allows'?: (boolean);
}

export interface RuleVerdict__Output {
  'rule': (number);
  'verdict': (string);
  'allows': (boolean);
}
