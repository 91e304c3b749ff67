/**
 * Errors of the graph page (ui/). Startup problems (bad options, missing assets) throw a UiError; request
 * problems become an HTTP status with a short text body (see access.ts and server.ts), never an exception.
 */
export type UiErrorCode = 'config' | 'assets';

export class UiError extends Error {
  readonly code: UiErrorCode;
  constructor(code: UiErrorCode, publicMessage: string, options?: { cause?: unknown }) {
    super(publicMessage, options);
    this.name = 'UiError';
    this.code = code;
  }
}
