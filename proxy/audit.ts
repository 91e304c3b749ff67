import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { CheckpointSigner, GENESIS, lineHash, openLine, type AuditSigner } from './audit-chain.js';

/**
 * The audit log: one JSON line per call, in pino's line format:
 *   {"level":30,"time":<epoch ms>,"kind":"call","caller":…,"callee":…,"method":…,"decision":…,"reason":…,
 *    "status":…,"bytesIn":…,"bytesOut":…,"durationUs":…[,"traceId":…][,"rootTaskId":…,"callId":…][,"taskId":…][,"contextId":…]
 *    [,"shadow":"would_deny"|"would_allow"]}
 * (rootTaskId / callId: the delegation root task and the call's id in its tree; taskId / contextId: the A2A task
 * and context the call named, or the task its answer created; shadow: the shadow policy would have decided the
 * call differently (shadow.ts); fields are only ever added at the end, so readers
 * of older lines keep working.)
 * The sink is pino's asynchronous destination (sonic-boom, sync:false), fed whole 16 KiB chunks of lines
 * (see createAuditLog). The line itself is built by a fixed-shape writer instead of pino's generic
 * serializer: measured on the gateway's request path, the generic one (key walk, per-value escaping, time
 * function) cost about 5x more per line, and every field here has a known type. A line costs ~1 us on the
 * request path; the price is that gathered lines (at most 1 s of them) would be lost on a crash, so the
 * log is flushed on close() and on SIGTERM.
 *
 * Tamper evidence (audit-chain.ts, verified offline by audit-verify.ts): the writer appends `"prev"` (the
 * hash of the line before) to every line it is given, whatever its fields, and adds signed checkpoints,
 * an opening line per file or restart, and size-based rotation that carries the chain into the next file.
 * The hash is CPU only (~0.5 us, bench/audit-chain.ts): no syscall per line; chunks are handed over as before.
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
  /** the shadow policy would have decided this call differently (proxy/shadow.ts) */
  shadow?: string;
  /** the A2A task the call named, or the one its answer created */
  taskId?: string;
  /** the A2A context of that call or task */
  contextId?: string;
}

export interface AuditLog {
  write(rec: AuditRecord): void;
  /** write buffered lines now (synchronously), after a signed checkpoint when lines are not yet covered by one */
  flush(): void;
  /**
   * flush(), then resolves once every line handed over is written to the file (an asynchronous write in
   * flight included: flush() alone cannot wait for it without putting lines out of order)
   */
  flushed(): Promise<void>;
  /** append a signed checkpoint now when lines were written since the last one (the timer does it too) */
  checkpoint(): void;
  /** what signs checkpoints from now on (the gateway's SVID, once it has one) */
  setSigner(signer: AuditSigner): void;
  /** a closing checkpoint, flush, and release the destination; writes after close are dropped */
  close(): Promise<void>;
}

export interface AuditLogOptions {
  /** file to append to (created 0600 if missing); default stdout */
  path?: string;
  /** flush on SIGTERM (default true): see installSigtermFlush */
  flushOnSigterm?: boolean;
  /** clock for each line's "time" (ms since epoch); default Date.now */
  now?: () => number;
  /** signs checkpoints (see audit-chain.ts); until it returns credentials, lines are chained but not signed */
  signer?: AuditSigner;
  /** how often a signed checkpoint is appended when lines were written since the last (ms; default 10 s) */
  checkpointMs?: number;
  /** rotate the file once it holds this many bytes (0: never; default 0): it is renamed <path>.<time> */
  rotateBytes?: number;
  /** rotated files kept (older ones are deleted; 0: keep all; default 0) */
  keep?: number;
  /** told when rotation fails (the log goes on in the same file) */
  onError?: (err: unknown) => void;
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
  const root = rec.rootTaskId === undefined ? '' : `,"rootTaskId":${q(rec.rootTaskId)}`;
  const call = rec.callId === undefined ? '' : `,"callId":${q(rec.callId)}`;
  const task = rec.taskId === undefined || rec.taskId === '' ? '' : `,"taskId":${q(rec.taskId)}`;
  const context = rec.contextId === undefined || rec.contextId === '' ? '' : `,"contextId":${q(rec.contextId)}`;
  const shadow = rec.shadow === undefined ? '' : `,"shadow":${q(rec.shadow)}`;
  return `{"level":30,"time":${time},"kind":"call","caller":${q(rec.caller)},"callee":${q(rec.callee)},"method":${q(rec.method)},"decision":${q(rec.decision)},"reason":${q(rec.reason)},"status":${n(rec.status)},"bytesIn":${n(rec.bytesIn)},"bytesOut":${n(rec.bytesOut)},"durationUs":${n(rec.durationUs)}${trace}${root}${call}${task}${context}${shadow}}\n`;
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
  const file = opts.path;
  const rotateBytes = file === undefined ? 0 : (opts.rotateBytes ?? 0);
  const signer = new CheckpointSigner(opts.signer ?? (() => undefined));
  // Lines are gathered here into Buffer chunks and sonic-boom (contentMode 'buffer') is handed whole chunks.
  // Measured with 200k lines to a file: handing sonic-boom one string per line cost ~7 us per
  // line (a byteLength of its growing buffer per write and a string fs.write per batch); writing lines into a
  // Buffer and handing over whole chunks costs ~1 us, most of it building the line. sonic-boom still does
  // the file work (open 0600, partial writes, EAGAIN, flushSync, close).
  // minLength: a small hand-over (the timer's) waits in sonic-boom for its periodic flush or flushSync, so a
  // flush() right after a few calls writes them synchronously instead of racing an async write
  const open = () =>
    pino.destination({
      dest: file ?? 1,
      sync: false,
      mkdir: true,
      minLength: 4096,
      maxWrite: CHUNK,
      periodicFlush: 1000,
      mode: 0o600,
      contentMode: 'buffer',
    });
  // the chain goes on from the line the file ends with (a restart appends to it)
  const tail = file === undefined ? undefined : lastLineOf(file);
  let dest = open();
  // contentMode 'buffer' takes Buffers; pino's typings only know the string form
  let put = dest.write.bind(dest) as unknown as (b: Buffer) => boolean;
  let state = dest as unknown as { destroyed: boolean; fd: number };
  /** destinations of rotated files still writing their last chunks */
  const ending: Promise<void>[] = [];
  let chunk = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  let closed = false;
  // the hash chain: the last line's hash, lines since this chain's "open" line, call lines since the last checkpoint
  let last = tail?.hash ?? GENESIS;
  let n = 0;
  let unsigned = 0;
  let fileBytes = tail?.size ?? 0;
  let rotateAt = rotateBytes;
  const handOver = () => {
    if (used === 0) return;
    const data = chunk.subarray(0, used);
    chunk = Buffer.allocUnsafe(CHUNK);
    used = 0;
    fileBytes += data.length;
    if (!state.destroyed) put(data);
    else if (atExit && state.fd >= 0) writeSync(state.fd, data); // pino's exit hook already flushed and closed it
  };
  /** one line (ending "}\n") into the chain and the chunk: the hash is CPU only, no syscall per line */
  const append = (line: string) => {
    const body = `${line.slice(0, line.length - 2)},"prev":"${last}"}`;
    last = lineHash(body);
    n++;
    // a UTF-8 line is at most 3 bytes per UTF-16 unit: check the cheap bound before the exact one
    if (CHUNK - used <= body.length * 3 && CHUNK - used <= Buffer.byteLength(body)) {
      handOver();
      if (CHUNK <= Buffer.byteLength(body)) {
        const big = Buffer.from(`${body}\n`); // a line longer than a chunk goes on its own
        fileBytes += big.length;
        put(big);
        return;
      }
    }
    used += chunk.write(body, used);
    chunk[used++] = 0x0a;
    if (used >= CHUNK - 512) handOver();
  };
  const checkpoint = (end: '' | 'rotate' | 'close') => {
    const line = signer.line(last, n, now(), end);
    if (line === undefined) return;
    append(line);
    unsigned = 0;
  };
  const startChain = (reason: 'start' | 'rotate') => {
    signer.newChain();
    append(openLine(now(), reason));
    n = 0;
  };
  if (tail !== undefined && !tail.newline) chunk[used++] = 0x0a; // end a line cut short by a crash
  startChain('start');

  // size-based rotation: the last checkpoint and chunk go to the old file, renamed; the new file's first line
  // carries the old file's last hash, so the chain runs on across files
  const rotate = () => {
    rotateAt = fileBytes + used + rotateBytes;
    checkpoint('rotate');
    handOver();
    try {
      renameSync(file!, rotatedName(file!, now()));
    } catch (err) {
      opts.onError?.(err);
      return;
    }
    const old = dest;
    ending.push(
      new Promise<void>((resolve) => {
        old.once('close', () => resolve());
        old.once('error', () => resolve());
        old.end();
      }),
    );
    dest = open();
    put = dest.write.bind(dest) as unknown as (b: Buffer) => boolean;
    state = dest as unknown as { destroyed: boolean; fd: number };
    fileBytes = 0;
    rotateAt = rotateBytes;
    startChain('rotate');
    if (opts.keep) pruneRotated(file!, opts.keep, opts.onError);
  };
  // Records wait here until the end of the event-loop turn, then their lines are built, chained and
  // gathered together: run back to back, the line, hash and chunk code stays hot in the CPU's caches, where
  // one line at a time between requests found it cold (a whole write costs ~4 us per call in a loop on the
  // 2026-11-30 VM and ~17 us in the loaded gateway's profile). The time is taken at write().
  let pending: AuditRecord[] = [];
  let pendingAt: number[] = [];
  let scheduled = false;
  const drain = () => {
    scheduled = false;
    const recs = pending;
    const at = pendingAt;
    if (recs.length === 0) return;
    pending = [];
    pendingAt = [];
    for (let i = 0; i < recs.length; i++) {
      append(auditLine(recs[i], at[i]));
      unsigned++;
      if (rotateBytes > 0 && fileBytes + used >= rotateAt) rotate();
    }
  };
  let atExit = false;
  const onExit = () => {
    atExit = true;
    drain();
    if (unsigned > 0) checkpoint('');
    handOver();
  };
  exitHooks.add(onExit);
  // bounds how long a line can wait in memory when traffic is light
  const timer = setInterval(() => {
    drain();
    handOver();
    if (rotateBytes > 0 && fileBytes + used >= rotateAt) rotate();
  }, GATHER_MS);
  timer.unref();
  const signTimer = setInterval(() => {
    if (unsigned > 0) checkpoint('');
  }, opts.checkpointMs ?? 10_000);
  signTimer.unref();
  const flush = () => {
    if (closed) return;
    drain();
    if (unsigned > 0) checkpoint('');
    handOver();
    // While an asynchronous write is in flight, sonic-boom's flushSync writes the queued chunks before it
    // completes: lines out of order, which the hash chain (rightly) reports. They are queued in order; the
    // in-flight write and end() (close) put them down in that order.
    if ((dest as unknown as { _writing: boolean })._writing) return;
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
      pending.push(rec);
      pendingAt.push(now());
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    },
    flush,
    flushed() {
      flush();
      if (closed || file === undefined || state.destroyed) return Promise.resolve();
      return new Promise<void>((resolve) => dest.flush(() => resolve()));
    },
    checkpoint() {
      if (closed) return;
      drain();
      if (unsigned > 0) checkpoint('');
    },
    setSigner(s) {
      signer.use(s);
    },
    close() {
      if (closed) return Promise.resolve();
      drain();
      checkpoint('close');
      flush();
      closed = true;
      clearInterval(timer);
      clearInterval(signTimer);
      exitHooks.delete(onExit);
      uninstall();
      const done = Promise.all(ending).then(() => undefined);
      return new Promise<void>((resolve) => {
        if (file === undefined) {
          resolve(); // never end stdout
          return;
        }
        dest.once('close', () => resolve());
        dest.once('error', () => resolve());
        dest.end();
      }).then(() => done);
    },
  };
}

/** The hash of a file's last line (GENESIS for an empty file), undefined when there is no file. */
function lastLineOf(file: string): { hash: string; newline: boolean; size: number } | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return { hash: GENESIS, newline: true, size };
    for (let len = Math.min(size, CHUNK); ; len = Math.min(size, len * 4)) {
      const buf = Buffer.allocUnsafe(len);
      readSync(fd, buf, 0, len, size - len);
      const newline = buf[len - 1] === 0x0a;
      const end = newline ? len - 1 : len;
      const start = end === 0 ? 0 : buf.lastIndexOf(0x0a, end - 1) + 1;
      if (start > 0 || len === size) return { hash: lineHash(buf.subarray(start, end)), newline, size };
    }
  } finally {
    closeSync(fd);
  }
}

/** <path>.<ISO time, ':' as '-'>, with a counter when that name is taken */
function rotatedName(file: string, t: number): string {
  const base = `${file}.${new Date(t).toISOString().replace(/:/g, '-')}`;
  let name = base;
  for (let i = 1; existsSync(name); i++) name = `${base}.${i}`;
  return name;
}

const ROTATED = /^\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z(\.\d+)?$/;

function pruneRotated(file: string, keep: number, onError?: (err: unknown) => void): void {
  try {
    const dir = path.dirname(file);
    const base = path.basename(file);
    const rotated = readdirSync(dir)
      .filter((f) => f.startsWith(base) && ROTATED.test(f.slice(base.length)))
      .sort();
    for (const f of rotated.slice(0, Math.max(0, rotated.length - keep))) unlinkSync(path.join(dir, f));
  } catch (err) {
    onError?.(err);
  }
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
