/**
 * The one place where errors become gRPC statuses. Handlers throw (CaError from the core, CertError from
 * peer validation, ControlError from this layer); `toServiceError` picks the status and a message that is
 * safe to send. Anything unexpected becomes INTERNAL with a generic message; the cause goes to the log only.
 *
 * Join-token failures (token_unknown / token_used / token_expired) map to UNAUTHENTICATED, not
 * PERMISSION_DENIED: the token IS the caller's credential on Bootstrap, and it did not authenticate anyone.
 * PERMISSION_DENIED is kept for callers we did authenticate but refuse (revoked identity, not allowed).
 */
import { CodedError, ERROR_CODE_METADATA_KEY } from '../protocol/errors.js';
import { status, Metadata, type ServiceError } from '@grpc/grpc-js';
import { CaError, type CaErrorCode } from '../ca/api.js';
import { CertError } from '../certs/errors.js';

export type ControlErrorCode = 'invalid_argument' | 'unauthenticated' | 'permission_denied' | 'unavailable';

/** Errors raised by the control layer itself (bad request shape, missing client certificate). */
export class ControlError extends CodedError<ControlErrorCode> {
  constructor(code: ControlErrorCode, publicMessage: string, options?: { cause?: unknown }) {
    super(code, publicMessage, options);
    this.name = 'ControlError';
  }
}

const CA_STATUS: Record<CaErrorCode, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  bad_csr_signature: status.INVALID_ARGUMENT,
  token_unknown: status.UNAUTHENTICATED,
  token_used: status.UNAUTHENTICATED,
  token_expired: status.UNAUTHENTICATED,
  unauthenticated: status.UNAUTHENTICATED,
  revoked: status.PERMISSION_DENIED,
  permission_denied: status.PERMISSION_DENIED,
  storage: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

const CONTROL_STATUS: Record<ControlErrorCode, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  unavailable: status.UNAVAILABLE,
};

export interface MappedError {
  code: status;
  /** stable Tollgate error code (CaErrorCode, ControlErrorCode or a certs code) */
  reason: string;
  message: string;
  /** true when the message is generic and the cause must be logged to be understood */
  hidden: boolean;
}

export function mapError(err: unknown): MappedError {
  if (err instanceof CaError) {
    // storage/internal messages from the core may still name paths or SQL: replace them.
    if (err.code === 'storage') return { code: status.UNAVAILABLE, reason: err.code, message: 'the CA store is unavailable; retry later', hidden: true };
    if (err.code === 'internal') return { code: status.INTERNAL, reason: err.code, message: 'internal CA error', hidden: true };
    return { code: CA_STATUS[err.code] ?? status.INTERNAL, reason: err.code, message: err.message, hidden: false };
  }
  if (err instanceof ControlError) return { code: CONTROL_STATUS[err.code], reason: err.code, message: err.message, hidden: false };
  if (err instanceof CertError) {
    return { code: status.UNAUTHENTICATED, reason: err.code, message: `client certificate rejected: ${err.message}`, hidden: false };
  }
  return { code: status.INTERNAL, reason: 'internal', message: 'internal error', hidden: true };
}

export function toServiceError(err: unknown): Partial<ServiceError> {
  const m = mapError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, m.reason);
  return { code: m.code, details: m.message, message: m.message, metadata };
}
