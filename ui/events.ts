import type { ServerResponse } from 'node:http';

/**
 * Server-sent events for the graph page: every client gets the current snapshot on connect, then a fresh one
 * when the graph changes, coalesced so that a busy gateway sends at most one snapshot per `minIntervalMs` (the
 * snapshot is built once per send and shared by all clients). Changes are cheap to report: `changed()` is a
 * flag check while a send is pending, so the gateway can call it for every call it records.
 */
export interface SnapshotStreamOptions {
  /** the serialized snapshot; called at most once per send */
  snapshot: () => string;
  now: () => number;
  /** least time between two sends (default 250 ms: at most 4 per second) */
  minIntervalMs?: number;
  /** comment line keeping proxies and the browser from timing the stream out (default 15 s) */
  heartbeatMs?: number;
  /** resend even without a change, so per-second rates decay as the window slides (default 5 s; 0 = off) */
  refreshMs?: number;
}

/** A client whose unsent data exceeds this is too slow to follow: it is dropped (the browser reconnects). */
const MAX_BUFFERED = 4 * 1024 * 1024;

export class SnapshotStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly opts: Required<SnapshotStreamOptions>;
  private lastSent = Number.NEGATIVE_INFINITY;
  private pending: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private refresh: NodeJS.Timeout | undefined;
  private closed = false;
  /** snapshots sent (to any number of clients); for tests and the page's own diagnostics */
  sends = 0;

  constructor(opts: SnapshotStreamOptions) {
    this.opts = { minIntervalMs: 250, heartbeatMs: 15_000, refreshMs: 5_000, ...opts };
  }

  get size(): number {
    return this.clients.size;
  }

  /** Take over `res` as an event stream; the client gets the current snapshot at once. */
  add(res: ServerResponse): void {
    if (this.closed) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('graph page is shutting down\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    res.on('close', () => this.remove(res));
    // a client that fell behind catches up with the latest snapshot once its buffer drains
    res.on('drain', () => this.changed());
    const frame = this.frame();
    if (frame) res.write(frame);
    if (this.clients.size === 1) this.startTimers();
  }

  /** The graph changed: schedule a send (coalesced). */
  changed(): void {
    if (this.closed || this.pending !== undefined || this.clients.size === 0) return;
    const wait = Math.max(0, this.lastSent + this.opts.minIntervalMs - this.opts.now());
    this.pending = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.pending = undefined;
    if (this.closed || this.clients.size === 0) return;
    this.lastSent = this.opts.now();
    const frame = this.frame();
    if (!frame) return;
    this.sends++;
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED) {
        res.destroy();
        continue;
      }
      // skip a client that has not drained the previous snapshot: it gets the latest one on 'drain'
      if (!res.writableNeedDrain) res.write(frame);
    }
  }

  private frame(): string | undefined {
    try {
      return `data: ${this.opts.snapshot()}\n\n`;
    } catch (err) {
      // the page shows the message; the stream stays open for the next snapshot
      return `event: fault\ndata: ${JSON.stringify({ message: `snapshot failed: ${(err as Error).message}` })}\n\n`;
    }
  }

  private remove(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stopTimers();
  }

  private startTimers(): void {
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) if (!res.writableNeedDrain) res.write(': heartbeat\n\n');
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
    if (this.opts.refreshMs > 0) {
      this.refresh = setInterval(() => this.changed(), this.opts.refreshMs);
      this.refresh.unref();
    }
  }

  private stopTimers(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.refresh);
    clearTimeout(this.pending);
    this.heartbeat = this.refresh = this.pending = undefined;
  }

  /** End every stream (the browser would reconnect; the server is going away). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
