/**
 * A minimal Redis client for the governed call's hot path: the reservation script (EVALSHA) and the batched
 * releases, on a connection of their own. Everything else (renewals, costs, the kill switch, task owners,
 * the call graph stream) stays on ioredis.
 *
 * Why not ioredis here: in V8 profiles of the bench's gateway (`bench/gateway.ts --cpu-prof`, the old and
 * new builds in one run, 2026-11-30, a loaded machine) the fleet path cost 47.3 us per governed call with
 * ioredis, of which 19.2 us was the socket write and ~10 us ioredis's own work (a Command object and
 * promise, a timer per command for commandTimeout, argument conversion, the script's EVAL/EVALSHA wrapper),
 * and 14.1 us with this client (the write 3.9 us). Reserve + release alone with 32 in flight
 * (`bench/fleet-reserve.ts`): 16.5-18 us of client CPU with ioredis, 5.8-7.6 us with this client. So:
 *  - every command of one event-loop turn goes out in ONE socket write (at setImmediate): under load a
 *    write carries several reservations plus the turn's releases, and each write on loopback TCP carries
 *    the delivery to redis-server in the sender's system time (writing the turn's first command at once
 *    measured no better);
 *  - a command is one pre-encoded string (the script's SHA part is encoded once); replies are read in place;
 *  - one timer per connection enforces commandTimeout (each command keeps its own deadline, counted from
 *    when it was issued, so a call is refused within commandTimeout while Redis hangs);
 *  - a script is called by SHA; a NOSCRIPT reply re-sends that command as EVAL with the script (which
 *    loads it), without the caller seeing it.
 *
 * No offline queue once connected: while the connection is down, commands fail at once (the caller fails
 * closed) and the connection reconnects by itself. Only before the first connection is made do commands
 * wait for it (still bounded by their deadline).
 */
import net from 'node:net';
import tls from 'node:tls';
import { createHash } from 'node:crypto';
import { ReplyReader, RespError, type Reply } from './resp-reply.js';

export { RespError, type Reply };

export interface RespOptions {
  host?: string;
  port?: number;
  /** a Unix socket instead of host:port */
  path?: string;
  /** TLS (rediss://): options for tls.connect, `true` for the defaults */
  tls?: tls.ConnectionOptions | true;
  username?: string;
  password?: string | null;
  db?: number;
  /** a command not answered within this many ms is rejected (undefined: no limit) */
  commandTimeout?: number;
  connectTimeout?: number;
  /** ms before reconnect attempt `times` (1, 2, ...); not a number: stop reconnecting */
  retryStrategy?: (times: number) => unknown;
}

/** A Lua script, encoded once: called by SHA, sent whole only after NOSCRIPT. */
export class RespScript {
  readonly sha: string;
  /** `$40\r\n<sha>\r\n` */
  readonly shaBulk: string;
  /** the script as a bulk string */
  readonly luaBulk: string;
  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
    this.shaBulk = `$40\r\n${this.sha}\r\n`;
    this.luaBulk = bulk(lua);
  }
}

/** One argument as a RESP bulk string. */
export function bulk(s: string): string {
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

/** A whole command as RESP. */
export function encodeCommand(args: readonly string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += bulk(a);
  return s;
}

class Pending {
  done = false;
  constructor(
    readonly resolve: (r: Reply) => void,
    readonly reject: (e: Error) => void,
    readonly deadline: number,
    /** set for EVALSHA: what to re-send as EVAL after NOSCRIPT */
    readonly script: RespScript | undefined,
    readonly nargs: number,
    readonly tail: string,
  ) {}
}

type State = 'connecting' | 'ready' | 'down' | 'closed';

export class RespConnection {
  private sock: net.Socket | undefined;
  private state: State = 'connecting';
  private everReady = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  /** commands written (or about to be) and not answered yet, oldest first from `head` */
  private pending: Pending[] = [];
  private head = 0;
  /** every entry before this index has been settled (the deadline pass starts here) */
  private expired = 0;
  /** the handshake replies (AUTH, SELECT) still expected at the front of the connection */
  private handshake = 0;
  private out = '';
  private scheduled = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly reader = new ReplyReader();
  private readonly beforeFlush: (() => void)[] = [];
  private readonly listeners: ((up: boolean) => void)[] = [];

  constructor(private readonly o: RespOptions) {
    this.connect();
  }

  /** Whether commands go out now (connected, handshake answered). */
  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Called with true when the connection is (again) ready, false when it is lost. */
  onState(f: (up: boolean) => void): void {
    this.listeners.push(f);
  }

  /** `f` runs just before each write: batchers add the turn's commands then (one write for all). */
  onFlush(f: () => void): void {
    this.beforeFlush.push(f);
  }

  /** Make sure this turn ends with a write (a batcher has something for onFlush). */
  schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Resolves once connected the first time; rejects when that attempt fails. */
  whenReady(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(new Error(this.lastError ?? 'the Redis connection is closed'));
    return new Promise((resolve, reject) => {
      const f = (up: boolean) => {
        const i = this.listeners.indexOf(f);
        if (i >= 0) this.listeners.splice(i, 1);
        if (up) resolve();
        else reject(new Error(this.lastError ?? 'the connection to Redis was lost'));
      };
      this.listeners.push(f);
    });
  }

  private lastError: string | undefined;

  command(args: readonly string[]): Promise<Reply> {
    return this.send(encodeCommand(args), undefined, 0, '');
  }

  /** EVALSHA: `tail` is numkeys, the keys and the arguments, each a bulk string (`nargs` of them). */
  evalsha(script: RespScript, nargs: number, tail: string): Promise<Reply> {
    return this.send(`*${nargs + 2}\r\n$7\r\nEVALSHA\r\n${script.shaBulk}${tail}`, script, nargs, tail);
  }

  private send(cmd: string, script: RespScript | undefined, nargs: number, tail: string): Promise<Reply> {
    if (this.state !== 'ready' && (this.everReady || this.state === 'closed')) {
      return Promise.reject(new Error(this.state === 'closed' ? 'the Redis connection is closed' : 'Redis is not connected'));
    }
    return new Promise<Reply>((resolve, reject) => {
      const t = this.o.commandTimeout;
      this.pending.push(new Pending(resolve, reject, t === undefined ? Infinity : Date.now() + t, script, nargs, tail));
      if (t !== undefined && this.deadlineTimer === undefined) this.armDeadline(t);
      this.out += cmd;
      if (this.state === 'ready') this.schedule();
    });
  }

  private readonly flush = (): void => {
    for (const f of this.beforeFlush) f();
    this.scheduled = false;
    if (this.out === '' || this.state !== 'ready') return;
    const s = this.out;
    this.out = '';
    this.sock!.write(s);
  };

  private armDeadline(ms: number): void {
    this.deadlineTimer = setTimeout(this.expire, Math.max(1, ms));
    this.deadlineTimer.unref();
  }

  /** Reject every command past its deadline; it stays in the queue so the replies still line up. */
  private readonly expire = (): void => {
    this.deadlineTimer = undefined;
    const now = Date.now();
    let next = Infinity;
    // entries before `expired` have all been settled (answered or timed out): a server that hangs for long
    // leaves many there, and each pass only walks the commands still waiting. The rest is walked whole
    // (a NOSCRIPT re-send keeps its older deadline behind newer ones).
    let i = Math.max(this.head, this.expired);
    while (i < this.pending.length && this.pending[i].done) i++;
    this.expired = i;
    for (; i < this.pending.length; i++) {
      const p = this.pending[i];
      if (p.done) continue;
      if (p.deadline <= now) {
        p.done = true;
        p.reject(new Error('Command timed out'));
      } else if (p.deadline < next) next = p.deadline;
    }
    if (next !== Infinity) this.armDeadline(next - now);
  };

  private connect(): void {
    const o = this.o;
    const opts = o.path !== undefined ? { path: o.path } : { host: o.host ?? '127.0.0.1', port: o.port ?? 6379 };
    const sock = o.tls ? tls.connect({ ...opts, ...(o.tls === true ? {} : o.tls) }) : net.connect(opts);
    this.sock = sock;
    sock.setNoDelay(true);
    const connected = o.tls ? 'secureConnect' : 'connect';
    if (o.connectTimeout !== undefined) {
      this.connectTimer = setTimeout(() => sock.destroy(new Error(`connect timed out after ${o.connectTimeout} ms`)), o.connectTimeout);
      this.connectTimer.unref();
    }
    sock.once(connected, () => {
      clearTimeout(this.connectTimer);
      this.onConnected();
    });
    sock.on('data', (b: Buffer) => {
      try {
        this.reader.feed(b, this.onReply);
      } catch (e) {
        sock.destroy(e as Error); // not RESP: start over on a new connection
      }
    });
    sock.on('error', (e: Error) => {
      this.lastError = e.message;
    });
    sock.on('close', () => {
      if (this.sock === sock) this.onClosed();
    });
  }

  private onConnected(): void {
    const o = this.o;
    const hs: string[][] = [];
    if (o.password) hs.push(o.username ? ['AUTH', o.username, o.password] : ['AUTH', o.password]);
    if (o.db !== undefined && o.db !== 0) hs.push(['SELECT', String(o.db)]);
    this.handshake = hs.length;
    // the handshake first, then what waited for the first connection (pipelined: answered in that order)
    const waiting = this.out;
    this.out = '';
    this.sock!.write(hs.map(encodeCommand).join('') + waiting);
    if (hs.length === 0) this.becomeReady();
  }

  private becomeReady(): void {
    this.attempts = 0;
    this.state = 'ready';
    this.everReady = true;
    if (this.out !== '') this.schedule();
    for (const f of [...this.listeners]) f(true);
  }

  private readonly onReply = (r: Reply): void => {
    if (this.handshake > 0) {
      this.handshake--;
      if (r instanceof RespError) {
        this.lastError = `Redis refused the connection's handshake: ${r.message}`;
        this.sock?.destroy();
      } else if (this.handshake === 0) this.becomeReady();
      return;
    }
    const p = this.pending[this.head];
    if (p === undefined) return; // a reply nobody waits for (cannot happen on a healthy connection)
    this.pending[this.head++] = undefined as unknown as Pending;
    if (this.head >= 1024 && this.head * 2 >= this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.expired = Math.max(0, this.expired - this.head);
      this.head = 0;
    }
    if (p.done) return; // timed out already
    if (r instanceof RespError) {
      if (p.script !== undefined && r.message.startsWith('NOSCRIPT')) {
        // not loaded on this server (restarted, flushed): the same command as EVAL, which loads it
        this.pending.push(new Pending(p.resolve, p.reject, p.deadline, undefined, 0, ''));
        this.out += `*${p.nargs + 2}\r\n$4\r\nEVAL\r\n${p.script.luaBulk}${p.tail}`;
        this.schedule();
        return;
      }
      p.done = true;
      p.reject(r);
      return;
    }
    p.done = true;
    p.resolve(r);
  };

  private onClosed(): void {
    clearTimeout(this.connectTimer);
    this.sock = undefined;
    this.reader.reset();
    this.out = '';
    this.handshake = 0;
    const lost = this.pending;
    const from = this.head;
    this.pending = [];
    this.head = 0;
    this.expired = 0;
    const err = new Error(`the connection to Redis was lost${this.lastError ? ` (${this.lastError})` : ''}`);
    for (let i = from; i < lost.length; i++) {
      const p = lost[i];
      if (!p.done) {
        p.done = true;
        p.reject(err);
      }
    }
    if (this.state === 'closed') return;
    const wasUp = this.state === 'ready' || !this.everReady;
    this.state = 'down';
    if (wasUp) for (const f of [...this.listeners]) f(false);
    const wait = (this.o.retryStrategy ?? ((n: number) => Math.min(n * 200, 2000)))(++this.attempts);
    if (typeof wait !== 'number') {
      this.state = 'closed';
      return;
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === 'down') this.connect();
    }, wait);
    this.reconnectTimer.unref();
  }

  /** Send what this turn has queued, then close (no reconnecting). Replies still on their way may be lost. */
  close(): void {
    if (this.state === 'closed') return;
    const sock = this.sock;
    const open = this.state === 'ready';
    if (open) this.flush();
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.deadlineTimer);
    clearTimeout(this.connectTimer);
    this.deadlineTimer = undefined;
    if (sock === undefined) return;
    if (!open) {
      sock.destroy();
      return;
    }
    // the server answers what it read, then closes; a server that hangs is not waited for
    sock.end();
    setTimeout(() => sock.destroy(), 1000).unref();
  }
}
