/**
 * The delegation layer's error type, for the few places that throw (key file I/O, bad options).
 * The request path never throws for a bad context: it returns a Refusal (refusals.ts) instead.
 */
import { CodedError } from '../../protocol/errors.js';
export type DelegationErrorCode =
  | 'keys_unreadable' // the key file exists but cannot be read
  | 'keys_corrupt' // the key file is not a valid key ring
  | 'keys_write_failed' // persisting the key ring failed
  | 'invalid_argument';

export class DelegationError extends CodedError<DelegationErrorCode> {
  constructor(code: DelegationErrorCode, publicMessage: string, options?: { cause?: unknown }) {
    super(code, publicMessage, options);
    this.name = 'DelegationError';
  }
}
