/**
 * CLI errors become ONE line on stderr: `tollgate: <what went wrong>; <what to do>`, exit 1 (2 for usage
 * errors). Library errors already carry a message written for the user; unknown errors get a generic line
 * (plus the message), never a stack trace.
 */
import { DatabaseError } from '../database/errors.js';
import { FleetError } from '../governance/fleet/errors.js';
import { CodedError } from '../protocol/errors.js';
import { CaError } from '../ca/api.js';
import { ConfigError } from '../config/load.js';
import { CertError } from '../certs/errors.js';
import { BootstrapError } from '../agent-bootstrap/errors.js';
import { ControlError } from '../control/errors.js';
import { ProxyError } from '../proxy/errors.js';
import { DelegationError } from '../governance/delegation/errors.js';
import { UiError } from '../ui/errors.js';
import { AdminError } from '../control/admin/errors.js';

/** `usage`: the command line is wrong (exit 2); `failed`: the command failed (exit 1 or `exitCode`). */
export type CliErrorCode = 'usage' | 'failed';

export class CliError extends CodedError<CliErrorCode> {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode = 1,
  ) {
    super(exitCode === 2 ? 'usage' : 'failed', message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  /** `command`: the command whose --help to suggest ('' for the main help: `tollgate --help`) */
  constructor(message: string, command: string) {
    super(message, command === '' ? 'run `tollgate --help`' : `run \`tollgate ${command} --help\``, 2);
    this.name = 'UsageError';
  }
}

/** What to do, when the library message does not already say it. */
function hintFor(err: unknown): string {
  if (err instanceof ConfigError) return 'fix the config file (see tollgate.example.yaml)';
  if (err instanceof CaError) {
    if (err.code === 'storage') {
      return /postgres(ql)?:\/\//.test(err.message)
        ? 'check that the database is reachable (--store / TOLLGATE_STORE)'
        : 'check that the data directory exists and is writable';
    }
    if (err.code.startsWith('token_')) return 'create a new token with `tollgate token create`';
    if (err.code === 'internal') return 'see the log of `tollgate serve`, or report this';
    return 'check the arguments (--help)';
  }
  if (err instanceof BootstrapError) {
    if (err.reason === 'revoked') return 'this identity was revoked: bootstrap again with a new join token';
    if (err.reason?.startsWith('token_')) return 'create a new token with `tollgate token create`';
    if (err.code === 'invalid_argument') return 'check the command line (`tollgate bootstrap --help`)';
    if (err.code === 'bad_response') return 'check that --server is a Tollgate control listener';
    if (err.code === 'files') return 'check the --out directory';
    return 'check --server, the token and the fingerprint';
  }
  if (err instanceof ProxyError) {
    if (err.code === 'listen') return 'another process may use that port: stop it or change listen.* in the config';
    if (err.code === 'config') return 'fix the config file (see tollgate.example.yaml)';
    return 'see the log of `tollgate serve`';
  }
  if (err instanceof DelegationError) return 'check the data directory (delegation-keys.json)';
  if (err instanceof FleetError) return 'check redis.url in the config and that Redis is running';
  if (err instanceof DatabaseError) return 'check --store (or TOLLGATE_STORE, or store: in the config) and that PostgreSQL is running';
  if (err instanceof UiError) return 'set uiToken in the config, or keep listen.metrics on a loopback address';
  return 'run the command with --help';
}

/** The single line printed for an error, and the exit code. */
export function describeError(err: unknown): { line: string; exitCode: number } {
  let message: string;
  let hint: string | undefined;
  let exitCode = 1;
  if (err instanceof CliError) {
    message = err.message;
    hint = err.hint;
    exitCode = err.exitCode;
  } else if (
    err instanceof ConfigError ||
    err instanceof CaError ||
    err instanceof CertError ||
    err instanceof BootstrapError ||
    err instanceof ControlError ||
    err instanceof ProxyError ||
    err instanceof DelegationError ||
    err instanceof UiError ||
    err instanceof AdminError ||
    err instanceof DatabaseError ||
    err instanceof FleetError
  ) {
    message = err.message;
    hint = hintFor(err);
  } else {
    message = `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
    hint = 'please report this with the command you ran';
  }
  // Library messages often already say what to do after a '; ': then they need no hint.
  const oneLine = message.replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
  const complete = oneLine.includes('; ') || !hint;
  return { line: `tollgate: ${oneLine}${complete ? '' : `; ${hint}`}`, exitCode };
}
