import { writeSync } from 'node:fs';
import pino from 'pino';

/**
 * The audit log: one JSON line per call, in pino's line format:
 *   {"level":30,"time":<epoch ms>,"kind":"call","caller":…,"callee":…,"method":…,"decision":…,"reason":…,
 *    "status":…,"bytesIn":…,"bytesOut":…,"durationUs":…[,"traceId":…][,"rootTaskId":…,"callId":…]}
 * The sink is pino's asynchronous destination (sonic-boom, sync:false), fed whole 16 KiB chunks of lines
 * (see createAuditLog). The line itself is built by a fixed-shape writer instead of pino's generic
 * serializer: measured on the gateway's request path, the generic one (key walk, per-value escaping, time
 * function) cost about 5x more per line, and every field here has a known type. A line costs ~1 us on the
 * request path; the price is that gathered lines (at most 1 s of them) would be lost on a crash, so the
 * log is flushed on close() and on SIGTERM.
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
  /** the delegation root task and the call's id in its tree (as /graph/tasks/<id> and `tollgate graph --task` show them) */
  rootTaskId?: string;
  callId?: string;
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
  /** clock for each line's "time" (ms since epoch); default Date.now */
  now?: () => number;
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
  const task = rec.rootTaskId === undefined ? '' : `,"rootTaskId":${q(rec.rootTaskId)}`;
  const call = rec.callId === undefined ? '' : `,"callId":${q(rec.callId)}`;
  return `{"level":30,"time":${time},"kind":"call","caller":${q(rec.caller)},"callee":${q(rec.callee)},"method":${q(rec.method)},"decision":${q(rec.decision)},"reason":${q(rec.reason)},"status":${n(rec.status)},"bytesIn":${n(rec.bytesIn)},"bytesOut":${n(rec.bytesOut)},"durationUs":${n(rec.durationUs)}${trace}${task}${call}}\n`;
}

/**
 * Lines are gathered into chunks of this size before they go to the destination. Each hand-over is one
 * asynchronous fs.write, queued to libuv's threadpool, whose thread runs on the gateway's own core: in the
 * pinned bench that hand-over showed as ~2 us per request at 16 KiB chunks (one per ~125 lines), and
 * 64 KiB took the gateway from 1.21x to 1.14x the bare proxy's CPU per request (docs/performance.md).
 * sonic-boom's maxWrite is raised to match, or it would split the chunk again.
 */
const CHUNK = 64 * 1024;
/** Longest a gathered line waits before it is handed to the destination (ms). */
const GATHER_MS = 1000;

/** Gathered lines of open logs go to their destination when the process exits (see createAuditLog). */
const exitHooks = new Set<() => void>();
let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  // registered before the first destination exists, so it runs before pino's own exit flush of it
  const run = () => {
    for (const f of exitHooks) {
      try {
        f();
      } catch {
        // a log that cannot be written at exit must not stop the others
      }
    }
  };
  process.on('beforeExit', run);
  process.on('exit', run);
}

export function createAuditLog(opts: AuditLogOptions = {}): AuditLog {
  hookExit();
  const now = opts.now ?? Date.now;
  // Lines are gathered here into Buffer chunks and sonic-boom (contentMode 'buffer') is handed whole chunks.
  // Measured with 200k lines to a file: handing sonic-boom one string per line cost ~7 us per
  // line (a byteLength of its growing buffer per write and a string fs.write per batch); writing lines into a
  // Buffer and handing over whole chunks costs ~1 us, most of it building the line. sonic-boom still does
  // the file work (open 0600, partial writes, EAGAIN, flushSync, close).
  // minLength: a small hand-over (the timer's) waits in sonic-boom for its periodic flush or flushSync, so a
  // flush() right after a few calls writes them synchronously instead of racing an async write
  const dest = pino.destination({
    dest: opts.path ?? 1,
    sync: false,
    mkdir: true,
    minLength: 4096,
    maxWrite: CHUNK,
    periodicFlush: 1000,
    mode: 0o600,
    contentMode: 'buffer',
  });
  // contentMode 'buffer' takes Buffers; pino's typings only know the string form
  const put = dest.write.bind(dest) as unknown as (b: Buffer) => boolean;
  const state = dest as unknown as { destroyed: boolean; fd: number };
  let chunk = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  let closed = false;
  const handOver = () => {
    if (used === 0) return;
    const data = chunk.subarray(0, used);
    chunk = Buffer.allocUnsafe(CHUNK);
    used = 0;
    if (!state.destroyed) put(data);
    else if (atExit && state.fd >= 0) writeSync(state.fd, data); // pino's exit hook already flushed and closed it
  };
  let atExit = false;
  const onExit = () => {
    atExit = true;
    handOver();
  };
  exitHooks.add(onExit);
  // bounds how long a line can wait in memory when traffic is light
  const timer = setInterval(handOver, GATHER_MS);
  timer.unref();
  const flush = () => {
    if (closed) return;
    handOver();
    try {
      dest.flushSync();
    } catch {
      // flushSync throws while the destination is still opening; the on-exit flush of sonic-boom covers it
    }
  };
  const uninstall = opts.flushOnSigterm === false ? () => {} : installSigtermFlush(flush);
  return {
    write(rec) {
      if (closed) return;
      const line = auditLine(rec, now());
      // a UTF-8 line is at most 3 bytes per UTF-16 unit: check the cheap bound before the exact one
      if (CHUNK - used < line.length * 3 && CHUNK - used < Buffer.byteLength(line)) {
        handOver();
        if (CHUNK < Buffer.byteLength(line)) {
          put(Buffer.from(line)); // a line longer than a chunk goes on its own
          return;
        }
      }
      used += chunk.write(line, used);
      if (used >= CHUNK - 512) handOver();
    },
    flush,
    close() {
      if (closed) return Promise.resolve();
      flush();
      closed = true;
      clearInterval(timer);
      exitHooks.delete(onExit);
      uninstall();
      return new Promise<void>((resolve) => {
        if (opts.path === undefined) {
          resolve(); // never end stdout
          return;
        }
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
