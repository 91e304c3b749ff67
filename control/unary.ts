/** Adapter from an async function to a grpc-js unary handler, with error mapping in one place. */
import type * as grpc from '@grpc/grpc-js';
import { mapError, toServiceError } from './errors.js';

/** pino-compatible subset: errors whose public message is generic are logged with their cause. */
export interface ErrorLog {
  error(obj: object, msg: string): void;
}

export const stderrLog: ErrorLog = {
  error(obj, msg) {
    const err = (obj as { err?: unknown }).err;
    const detail = err instanceof Error ? `${err.name}: ${err.message}${err.cause ? ` (cause: ${String((err.cause as Error).message ?? err.cause)})` : ''}` : String(err);
    process.stderr.write(`tollgate control: ${msg}: ${detail}\n`);
  },
};

export function unary<Req, Res>(
  method: string,
  log: ErrorLog | undefined,
  fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let p: Promise<Res>;
    try {
      p = fn(call.request, call);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (res) => callback(null, res),
      (err: unknown) => {
        if (mapError(err).hidden) (log ?? stderrLog).error({ err, method }, `${method} failed`);
        callback(toServiceError(err));
      },
    );
  };
}
