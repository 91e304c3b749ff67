/**
 * The one base of every layer's error type (CaError, CertError, ControlError, BootstrapError, ...): a
 * stable `code` that callers, tests and metrics branch on; a `message` written to be shown to whoever made
 * the request (no paths, SQL or keys: those stay in `cause`); and the ES2022 `cause` for the logs.
 * Each layer keeps its own subclass and code union, so `instanceof CaError` still says where it came from.
 */
export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;
  constructor(code: Code, publicMessage: string, options?: { cause?: unknown }) {
    super(publicMessage, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * gRPC trailer with the stable code of every error the control listener sends itself, so clients branch on
 * the code rather than parse messages. Its presence also tells a client that the CA answered (a refusal or
 * an outage on the CA's side) rather than that the network failed.
 */
export const ERROR_CODE_METADATA_KEY = 'tollgate-error-code';
