/**
 * Errors of the admin layer, and the one place they become gRPC statuses. CaError, CertError and
 * ControlError (peer validation) are mapped by control/errors.ts; AdminError adds what only the admin API
 * can say: a stale version (ABORTED), an unknown task (NOT_FOUND), a change the gateway refused
 * (FAILED_PRECONDITION).
 */
import { CodedError } from '../../protocol/errors.js';
import { status, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY } from '../../protocol/errors.js';
import { mapError, type MappedError } from '../errors.js';

export type AdminErrorCode =
  | 'invalid_argument' // bad input: the message names the field
  | 'unauthenticated' // no (valid) client SVID
  | 'not_admin' // valid SVID, not listed under admins:
  | 'revoked' // valid SVID, but revoked
  | 'version_conflict' // optimistic concurrency: someone else wrote first
  | 'not_found'
  | 'failed_precondition' // valid on its own, but the resulting config is refused
  | 'too_slow' // a WatchEvents client fell too far behind
  | 'storage' // settings store failure
  | 'internal';

export class AdminError extends CodedError<AdminErrorCode> {
  constructor(code: AdminErrorCode, publicMessage: string, options?: { cause?: unknown }) {
    super(code, publicMessage, options);
    this.name = 'AdminError';
  }
}

const ADMIN_STATUS: Record<AdminErrorCode, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  not_admin: status.PERMISSION_DENIED,
  revoked: status.PERMISSION_DENIED,
  version_conflict: status.ABORTED,
  not_found: status.NOT_FOUND,
  failed_precondition: status.FAILED_PRECONDITION,
  too_slow: status.RESOURCE_EXHAUSTED,
  storage: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

export function mapAdminError(err: unknown): MappedError {
  if (err instanceof AdminError) {
    if (err.code === 'storage') return { code: status.UNAVAILABLE, reason: err.code, message: 'the settings store is unavailable; retry later', hidden: true };
    if (err.code === 'internal') return { code: status.INTERNAL, reason: err.code, message: 'internal error', hidden: true };
    return { code: ADMIN_STATUS[err.code], reason: err.code, message: err.message, hidden: false };
  }
  return mapError(err);
}

export function toAdminServiceError(err: unknown): Partial<ServiceError> & { code: status; details: string } {
  const m = mapAdminError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, m.reason);
  return { code: m.code, details: m.message, message: m.message, metadata };
}
