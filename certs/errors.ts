/**
 * Errors raised by the certs/ primitives. `code` is stable (tests, metrics and callers key on it);
 * `message` says which rule failed and is safe to show to the peer.
 */
import { CodedError } from '../protocol/errors.js';

export type CertErrorCode =
  | 'spiffe_id_invalid'
  | 'svid_parse'
  | 'svid_chain'
  | 'svid_uri_san'
  | 'svid_basic_constraints'
  | 'svid_key_usage'
  | 'svid_ext_key_usage'
  | 'svid_expired'
  | 'svid_not_yet_valid'
  | 'svid_trust_domain';

export class CertError extends CodedError<CertErrorCode> {
  constructor(code: CertErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'CertError';
  }
}
