/**
 * The demo's one error type. `message` is the single line printed on failure (safe to show, says what to
 * do); `cause` keeps the underlying error for `--verbose`-style debugging.
 */
import { CodedError } from '../protocol/errors.js';
export type DemoErrorCode =
  | 'cli' // a `tollgate` command failed
  | 'gateway' // `tollgate serve` did not start, or stopped
  | 'enroll' // an identity could not be created or bootstrapped
  | 'agent' // an agent could not start
  | 'story' // a story step did not have the expected outcome
  | 'interrupted'; // Ctrl-C / SIGTERM

export class DemoError extends CodedError<DemoErrorCode> {
  constructor(code: DemoErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DemoError';
  }
}

/** The one line to print for any error. */
export function errorLine(err: unknown): string {
  if (err instanceof DemoError) return err.message;
  if (err instanceof Error) return `unexpected error: ${err.message}`;
  return `unexpected error: ${String(err)}`;
}
