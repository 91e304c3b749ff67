import { CodedError } from '../../protocol/errors.js';

/** Where `tollgate ctl` writes, and its one error type. Injectable so tests run commands in-process. */
export interface CtlIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** aborts long-running commands (`ctl watch`); default: SIGINT / SIGTERM */
  signal?: AbortSignal;
}

export const processIo: CtlIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** `usage`: the command line is wrong (exit 2). `failed`: the operation failed (exit 1). */
export type CtlErrorCode = 'usage' | 'failed';

export class CtlError extends CodedError<CtlErrorCode> {
  constructor(kind: CtlErrorCode, message: string, options?: { cause?: unknown }) {
    super(kind, message, options);
    this.name = 'CtlError';
  }

  /** the code under its older name */
  get kind(): CtlErrorCode {
    return this.code;
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
