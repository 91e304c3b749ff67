import pino from 'pino';

/**
 * The audit log: one JSON line per call, in pino's line format:
 *   {"level":30,"time":<epoch ms>,"kind":"call","caller":…,"callee":…,"method":…,"decision":…,"reason":…,
 *    "status":…,"bytesIn":…,"bytesOut":…,"durationUs":…[,"traceId":…]}
 * The sink is pino's asynchronous destination (sonic-boom, sync:false). The line itself is built by a
 * fixed-shape writer instead of pino's generic serializer: measured on the gateway's request path, the
 * generic one (key walk, per-value escaping, time function) cost about 5x more per line, and every field
 * here has a known type. The destination is asynchronous (sonic-boom, sync:false)
 * so a line costs ~1-2 us on the request path; the price is that buffered lines would be lost on a crash,
 * so the log is flushed on close() and on SIGTERM.
 */
export type AuditDecision = 'allow' | 'deny' | 'limit' | 'refuse' | 'error';

export interface AuditRecord {
  /** caller SPIFFE ID ('' when the caller could not be identified) */
  caller: string;
  /** callee agent name ('' when the request did not route to an agent) */
  callee: string;
  method: string;
  decision: AuditDecision;
  /** why (refusal reason, upstream error kind); 'ok' for an allowed call */
  reason: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationUs: number;
  /** W3C trace id from a valid `traceparent` */
  traceId?: string;
}

export interface AuditLog {
  write(rec: AuditRecord): void;
  /** write buffered lines now (synchronously) */
  flush(): void;
  /** flush and release the destination; writes after close are dropped */
  close(): Promise<void>;
}

export interface AuditLogOptions {
  /** file to append to (created 0600 if missing); default stdout */
  path?: string;
  /** flush on SIGTERM (default true): see installSigtermFlush */
  flushOnSigterm?: boolean;
}

const SAFE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/; // printable ASCII without '"' and '\\'
/** a JSON string literal; the common case (IDs, names, fixed words) needs no escaping */
function q(v: string): string {
  return SAFE.test(v) ? `"${v}"` : JSON.stringify(v);
}
function n(v: number): string {
  return Number.isFinite(v) ? String(v) : '0';
}

/** One audit line (exported for tests). */
export function auditLine(rec: AuditRecord, time: number): string {
  const trace = rec.traceId === undefined ? '' : `,"traceId":${q(rec.traceId)}`;
  return `{"level":30,"time":${time},"kind":"call","caller":${q(rec.caller)},"callee":${q(rec.callee)},"method":${q(rec.method)},"decision":${q(rec.decision)},"reason":${q(rec.reason)},"status":${n(rec.status)},"bytesIn":${n(rec.bytesIn)},"bytesOut":${n(rec.bytesOut)},"durationUs":${n(rec.durationUs)}${trace}}\n`;
}

export function createAuditLog(opts: AuditLogOptions = {}): AuditLog {
  // minLength batches lines into 4 KiB writes; periodicFlush bounds how long a line can wait in memory.
  const dest = pino.destination({ dest: opts.path ?? 1, sync: false, mkdir: true, minLength: 4096, periodicFlush: 1000, mode: 0o600 });
  let closed = false;
  const flush = () => {
    if (!closed) {
      try {
        dest.flushSync();
      } catch {
        // flushSync throws while the destination is still opening; the on-exit flush of sonic-boom covers it
      }
    }
  };
  const uninstall = opts.flushOnSigterm === false ? () => {} : installSigtermFlush(flush);
  return {
    write(rec) {
      if (!closed) dest.write(auditLine(rec, Date.now()));
    },
    flush,
    close() {
      if (closed) return Promise.resolve();
      flush();
      closed = true;
      uninstall();
      return new Promise<void>((resolve) => {
        if (opts.path === undefined) return resolve(); // never end stdout
        dest.once('close', () => resolve());
        dest.once('error', () => resolve());
        dest.end();
      });
    },
  };
}

/**
 * Flush on SIGTERM without changing what SIGTERM does: when another listener (the CLI's graceful
 * shutdown) exists, it decides; when we are the only one, we re-raise the signal after flushing so the
 * process still terminates as it would have.
 */
function installSigtermFlush(flush: () => void): () => void {
  const onTerm = () => {
    flush();
    if (process.listenerCount('SIGTERM') === 1) {
      process.removeListener('SIGTERM', onTerm);
      process.kill(process.pid, 'SIGTERM');
    }
  };
  process.on('SIGTERM', onTerm);
  return () => process.removeListener('SIGTERM', onTerm);
}
