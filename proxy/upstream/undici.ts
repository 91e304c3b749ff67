import { Pool } from 'undici';
import { ipFamily } from '../../certs/ip.js';
import { performance } from 'node:perf_hooks';
import { upstreamSecureContext } from '../tls/trust.js';
import { UpstreamIdentity } from './identity.js';
import type { CallTimeouts } from '../timeouts.js';
import {
  CallCutError,
  ClientAbortError,
  MAX_REWRITE_BYTES,
  type EngineCall,
  type EngineOptions,
  type ForwardJob,
  type Upstream,
  type UpstreamSpec,
} from './engine.js';

/**
 * Forwarding with undici `Pool.dispatch` and a hand-written handler: the cheapest way measured to proxy
 * from Node (no Readable per response, raw headers). One keep-alive pool per agent, mTLS with the gateway's
 * own SVID; the upstream must present the agent's registered SPIFFE ID (checked from DER, per connection).
 *
 * The handler uses undici's raw callback API (onConnect/onHeaders/onData/onComplete/onError): it is what
 * Client speaks natively; the newer controller API is an adapter over it that parses headers into objects.
 *
 * Limits per call (job.timeouts, proxy/timeouts.ts) ride on undici's own per-request timers, so a call
 * costs no extra timer: headersTimeout = the call's upstream limit; bodyTimeout = the same limit for a
 * non-stream method, and for a streaming method its stream idle limit or none (0): undici's default body
 * timeout (300 s) would otherwise cut a quiet stream. A non-stream body is also held to the total limit
 * as it arrives; a stream's total limit (streamMax) is the one timer of its own.
 */
export function undiciUpstream(spec: UpstreamSpec, opts: EngineOptions): Upstream {
  const url = new URL(spec.origin);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const identity = new UpstreamIdentity(spec.id, spec.trustDomain, opts.trust, opts.now, opts.revocation);
  const secureContext = upstreamSecureContext(opts.trust);
  const open = () =>
    new Pool(spec.origin, {
      connections: 256,
      pipelining: 1,
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
      keepAliveTimeout: 30_000,
      connect: {
        // key, chain and bundle are in the shared context (an omitted `ca` would mean the public roots)
        secureContext,
        rejectUnauthorized: true,
        servername: ipFamily(host) ? undefined : host,
        checkServerIdentity: identity.check,
      },
    });
  let pool = open();
  // The callee's certificate is checked by TLS once per connection; a revocation after that drops the
  // pool (its in-flight calls too: they go to a callee that is no longer trusted). The call then opens
  // a new connection, whose handshake refuses the callee: 502.
  const current = (): Pool => {
    if (identity.revokedInUse()) {
      const old = pool;
      identity.newPool();
      pool = open();
      void old.destroy().catch(() => {});
    }
    return pool;
  };
  return {
    forward(job) {
      const t = job.timeouts;
      const h = new ForwardHandler(job, t);
      job.engineCall = h;
      current().dispatch(
        {
          method: job.httpMethod,
          path: job.upstreamPath,
          headers: job.forwardHeaders,
          body: job.body ?? null,
          headersTimeout: t.upstreamMs,
          bodyTimeout: t.stream ? t.streamIdleMs : t.upstreamMs,
        },
        h,
      );
    },
    async fetch(path, headers, init) {
      const r = await current().request({ method: init?.method ?? 'GET', path, headers, body: init?.body ?? null });
      const max = init?.maxBytes ?? Infinity;
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of r.body as AsyncIterable<Buffer>) {
        chunks.push(c);
        n += c.length;
        if (n > max) {
          r.body.destroy();
          break;
        }
      }
      const body = Buffer.concat(chunks, n);
      return { status: r.statusCode, headers: r.headers, body: n > max ? body.subarray(0, max + 1) : body };
    },
    close: () => pool.close(),
    destroy: () => pool.destroy(),
  };
}

/** The handler of the call a response belongs to, for the shared 'close'/'drain' listeners below. */
const kHandler = Symbol('tollgate.forwardHandler');
type TrackedResponse = ForwardJob['res'] & { [kHandler]?: ForwardHandler };

// One module-level listener instead of closures per call: 'close' fires once per response, and a
// finished call unhooks itself by clearing the response's handler slot (no removeListener on the hot path).
function onCallerClose(this: TrackedResponse): void {
  this[kHandler]?.callerGone();
}
function onCallerDrain(this: TrackedResponse): void {
  this[kHandler]?.resumeUpstream();
}

/** An SSE chunk that ends with a blank line ("\n\n" or "\r\n\r\n") leaves the stream at an event boundary. */
function endsEvent(c: Buffer): boolean {
  const n = c.length;
  return n >= 2 && c[n - 1] === 10 && (c[n - 2] === 10 || (n >= 4 && c[n - 2] === 13 && c[n - 3] === 10));
}

function cutOnTimer(h: ForwardHandler, limit: 'upstream' | 'streamMax'): void {
  h.cut(new CallCutError('timeout', limit));
}

class ForwardHandler implements EngineCall {
  private abort: ((err?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  private bytesOut = 0;
  private started = false;
  /** response content-length, -1 when absent */
  private length = -1;
  /** a complete small body held to go out with end(): head + body in one TLS write instead of two */
  private held: Buffer | null = null;
  private done = false;
  /** a stream stands at an event boundary (an ending event may be added) */
  private boundary = true;
  /** a non-stream response must be complete by then (performance.now() ms) */
  private deadline = 0;
  /** streamMax, or the total limit of a non-stream answer to a streaming method (undici's body timer is off) */
  private timer: NodeJS.Timeout | undefined = undefined;

  private cutErr: CallCutError | null = null;
  /** rewriteBody mode: the status and headers wait for the rewritten body; the body is gathered here */
  private rewrite: { status: number; headers: string[]; chunks: Buffer[] } | null = null;

  constructor(
    private readonly job: ForwardJob,
    private readonly t: CallTimeouts,
  ) {
    const res = job.res as TrackedResponse;
    res[kHandler] = this;
    res.on('close', onCallerClose);
  }

  callerGone(): void {
    if (this.done) return;
    const err = new ClientAbortError();
    if (this.abort) this.abort(err);
    else this.finish(err);
  }

  resumeUpstream(): void {
    this.resume?.();
  }

  cut(err: CallCutError): void {
    if (this.done || this.cutErr !== null) return;
    this.cutErr = err;
    if (this.started) this.endStarted(err);
    if (this.abort) this.abort(err);
    else this.finish(err);
  }

  /** The response already started: a stream ends cleanly (with an error event when it can), anything else is cut. */
  private endStarted(err: CallCutError): void {
    const res = this.job.res;
    if (res.writableEnded) return;
    if (!this.job.streaming) {
      res.destroy();
      return;
    }
    const frame = this.boundary ? this.job.streamEndFrame(err) : undefined;
    if (frame === undefined) res.end();
    else res.end(frame);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.done) abort(new ClientAbortError());
    else this.abort = abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (status < 200) return true; // 1xx: informational, not forwarded
    this.resume = resume;
    const headers = this.job.onResponse(status, raw);
    if (this.job.rewriteBody !== undefined && status >= 200 && status < 300 && !this.job.streaming) {
      // nothing goes to the caller before the rewritten body: a failure until then is answered as a refusal
      this.rewrite = { status, headers, chunks: [] };
      this.deadline = this.job.t0 + this.t.upstreamMs;
      return true;
    }
    this.started = true;
    this.length = -1;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] === 'content-length') {
        this.length = Number(headers[i + 1]);
        break;
      }
    }
    this.job.res.writeHead(status, headers);
    const t = this.t;
    // an event stream's caller should see the response start before the first event; other responses
    // leave the head to go out with the body (one write instead of two)
    if (this.job.streaming) {
      this.job.res.flushHeaders();
      if (t.streamMaxMs > 0) this.timer = setTimeout(cutOnTimer, t.streamMaxMs, this, 'streamMax');
    } else {
      this.deadline = this.job.t0 + t.upstreamMs;
      // a streaming method answered without a stream: undici's body timer is off for it, so one of our own
      if (t.stream) this.timer = setTimeout(cutOnTimer, Math.max(0, this.deadline - performance.now()), this, 'upstream');
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.cutErr !== null) return true; // the gateway is ending the call: the rest is dropped
    this.bytesOut += chunk.length;
    if (this.job.tapBody) this.job.onBodyChunk(chunk);
    if (this.rewrite !== null) {
      if (this.bytesOut > MAX_REWRITE_BYTES) {
        this.abort?.(new Error(`the response is larger than the ${MAX_REWRITE_BYTES} bytes the gateway reads to filter it`));
        return false;
      }
      this.rewrite.chunks.push(chunk);
      return true;
    }
    if (this.job.streaming) {
      this.boundary = endsEvent(chunk);
    } else {
      // Only a chunk that IS the whole body (its length equals content-length) is held: the end of the
      // message follows at once, so nothing is delayed; anything else (chunked, partial) goes out now.
      if (this.held === null && this.bytesOut === this.length) {
        this.held = chunk;
        return true;
      }
      if (performance.now() > this.deadline) {
        this.cut(new CallCutError('timeout', 'upstream'));
        return true;
      }
    }
    const ok = this.job.res.write(chunk);
    if (!ok) this.job.res.once('drain', onCallerDrain);
    return ok;
  }

  onComplete(): void {
    if (this.cutErr !== null) {
      this.finish(this.cutErr);
      return;
    }
    if (this.rewrite !== null) {
      this.completeRewrite(this.rewrite);
      return;
    }
    if (this.held !== null) this.job.res.end(this.held);
    else this.job.res.end();
    this.finish(undefined);
  }

  private completeRewrite(r: { status: number; headers: string[]; chunks: Buffer[] }): void {
    this.job.rewriteBody!(Buffer.concat(r.chunks)).then(
      (body) => {
        if (this.done) return; // the caller left meanwhile
        const h: string[] = [];
        for (let i = 0; i < r.headers.length; i += 2) if (r.headers[i] !== 'content-length') h.push(r.headers[i], r.headers[i + 1]);
        h.push('content-length', String(body.length));
        this.started = true;
        this.job.res.writeHead(r.status, h);
        this.job.res.end(body);
        this.bytesOut = body.length;
        this.finish(undefined);
      },
      (err: unknown) => this.finish(err),
    );
  }

  onError(err: Error): void {
    // undici's own timers are the call's limits (see forward): name the one that passed
    const code = (err as { code?: string }).code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT') err = new CallCutError('timeout', 'upstream', undefined, { cause: err });
    else if (code === 'UND_ERR_BODY_TIMEOUT') err = new CallCutError('timeout', this.job.streaming ? 'streamIdle' : 'upstream', undefined, { cause: err });
    if (this.started && !this.job.res.writableEnded) {
      if (err instanceof CallCutError) this.endStarted(err);
      else this.job.res.destroy();
    }
    this.finish(err);
  }

  private finish(err: unknown): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    (this.job.res as TrackedResponse)[kHandler] = undefined;
    this.job.onEnd(this.bytesOut, err);
  }
}
