/**
 * One error type for the agent side. `code` is stable; `message` says what went wrong and what to do.
 * `grpcStatus`/`reason` carry what the CA answered when the server refused a call.
 */
import { CodedError } from '../protocol/errors.js';

export type BootstrapErrorCode =
  | 'invalid_argument' // bad flag/option: address, fingerprint, token
  | 'fingerprint_mismatch' // the server's root is not the pinned one
  | 'unavailable' // could not reach the CA (network, TLS, deadline)
  | 'refused' // the CA answered with an error (see grpcStatus / reason)
  | 'bad_response' // the CA answered something we cannot use
  | 'files' // reading or writing the identity files failed
  | 'caller_unknown'; // a request from the gateway that does not name its caller (spiffeUserBuilder)

export class BootstrapError extends CodedError<BootstrapErrorCode> {
  /** gRPC status name when the CA refused (e.g. 'PERMISSION_DENIED') */
  readonly grpcStatus?: string;
  /** the CA's stable error code (tollgate-error-code metadata), e.g. 'revoked', 'token_unknown' */
  readonly reason?: string;
  constructor(code: BootstrapErrorCode, message: string, options?: { cause?: unknown; grpcStatus?: string; reason?: string }) {
    super(code, message, options);
    this.name = 'BootstrapError';
    this.grpcStatus = options?.grpcStatus;
    this.reason = options?.reason;
  }
}
