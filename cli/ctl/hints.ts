/**
 * gRPC failures as `tollgate ctl` reports them: what happened, then what to do next. Keyed on the status
 * and the gateway's stable `tollgate-error-code` trailer, never on message text.
 */
import { status, type ServiceError } from '@grpc/grpc-js';

export interface HintContext {
  server: string;
  certDir: string;
  identity: string;
  /** the command as typed after `tollgate ctl`, e.g. "policy set" */
  command: string;
  timeoutMs: number;
}

function reasonOf(err: ServiceError): string {
  const v = err.metadata?.get('tollgate-error-code')?.[0];
  return typeof v === 'string' ? v : '';
}

/** The re-read command for a stale write (`policy set` -> `policy get`). */
function readCommand(command: string): string {
  if (command.startsWith('agents')) return 'tollgate ctl agents list';
  if (command.startsWith('limits')) return 'tollgate ctl limits get';
  return 'tollgate ctl policy get';
}

export function explainGrpcError(err: ServiceError, ctx: HintContext): string {
  const details = err.details || err.message;
  const reason = reasonOf(err);
  switch (err.code) {
    case status.UNAVAILABLE:
      return (
        `cannot reach the gateway's control listener at ${ctx.server} (${details}). ` +
        'Check that `tollgate serve` is running, that --server is its listen.control address (default 127.0.0.1:8444), ' +
        `and that ${ctx.certDir}/bundle.pem is this gateway's trust bundle`
      );
    case status.DEADLINE_EXCEEDED:
      return `the gateway at ${ctx.server} did not answer within ${ctx.timeoutMs / 1000}s; retry, or raise --timeout`;
    case status.UNAUTHENTICATED:
      return (
        `the gateway did not accept the identity in ${ctx.certDir} (${details}). ` +
        'Renew it, or bootstrap an admin identity again with `tollgate bootstrap` and pass its directory as --cert-dir'
      );
    case status.PERMISSION_DENIED:
      if (reason === 'not_admin' || reason === '') {
        return `this identity is not an admin: add ${ctx.identity} to admins: in the config (then reload the gateway)`;
      }
      if (reason === 'revoked') return `${details}: this admin identity was revoked; bootstrap a new one with \`tollgate bootstrap\``;
      return `refused: ${details}`;
    case status.ABORTED:
      return `${details}. Run \`${readCommand(ctx.command)}\` to see the current version, re-apply your change, and pass --version with it`;
    case status.INVALID_ARGUMENT:
      return `${details}. Fix the value named above and run the command again`;
    case status.FAILED_PRECONDITION:
      return details;
    case status.NOT_FOUND:
      return details;
    case status.RESOURCE_EXHAUSTED:
      return details;
    case status.UNIMPLEMENTED:
      return `the server at ${ctx.server} does not serve the Tollgate admin API: is --server the control listener (listen.control), not the proxy?`;
    default:
      return `the gateway answered ${status[err.code] ?? err.code}: ${details}`;
  }
}

export function isServiceError(e: unknown): e is ServiceError {
  return typeof e === 'object' && e !== null && typeof (e as ServiceError).code === 'number' && 'details' in e;
}
