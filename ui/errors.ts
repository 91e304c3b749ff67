/**
 * Errors of the graph page (ui/). Startup problems (bad options, missing assets) throw a UiError; request
 * problems become an HTTP status with a short text body (see access.ts and server.ts), never an exception.
 */
import { CodedError } from '../protocol/errors.js';
export type UiErrorCode = 'config' | 'assets';

export class UiError extends CodedError<UiErrorCode> {
  constructor(code: UiErrorCode, publicMessage: string, options?: { cause?: unknown }) {
    super(code, publicMessage, options);
    this.name = 'UiError';
  }
}
