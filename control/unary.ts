/** Adapter from a function (sync or async) to a grpc-js unary handler, with error mapping in one place. */
import type * as grpc from '@grpc/grpc-js';
import { mapError, toServiceError } from './errors.js';

/**
 * pino-compatible subset: errors whose public message is generic are logged with their cause; `info`, when
 * the log has it, records what the services did (certificates issued, admin changes) with who asked.
 */
export interface ErrorLog {
  error(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

/** A cause is any value: its message when it has one, else what String() prints (this fallback logger has no formatter). */
function causeText(cause: unknown): string {
  const message = (cause as { message?: unknown }).message;
  return String(message ?? cause);
}

export const stderrLog: ErrorLog = {
  error(obj, msg) {
    const err = (obj as { err?: unknown }).err;
    const detail = err instanceof Error ? `${err.name}: ${err.message}${err.cause ? ` (cause: ${causeText(err.cause)})` : ''}` : String(err);
    process.stderr.write(`tollgate control: ${msg}: ${detail}\n`);
  },
};

export function unary<Req, Res>(
  method: string,
  log: ErrorLog | undefined,
  fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    // a throw rejects p like a rejected answer does
    const p = new Promise<Res>((resolve) => {
      resolve(fn(call.request, call));
    });
    p.then(
      (res) => callback(null, res),
      (err: unknown) => {
        if (mapError(err).hidden) (log ?? stderrLog).error({ err, method }, `${method} failed`);
        callback(toServiceError(err));
      },
    );
  };
}
