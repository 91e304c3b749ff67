import { Pool } from 'undici';
import { isIP } from 'node:net';
import { upstreamSecureContext } from '../tls/trust.js';
import { UpstreamIdentity } from './identity.js';
import { ClientAbortError, MAX_REWRITE_BYTES, type EngineOptions, type ForwardJob, type Upstream, type UpstreamSpec } from './engine.js';

/**
 * Forwarding with undici `Pool.dispatch` and a hand-written handler: the cheapest way measured to proxy
 * from Node (no Readable per response, raw headers). One keep-alive pool per agent, mTLS with the gateway's
 * own SVID; the upstream must present the agent's registered SPIFFE ID (checked from DER, per connection).
 *
 * The handler uses undici's raw callback API (onConnect/onHeaders/onData/onComplete/onError): it is what
 * Client speaks natively; the newer controller API is an adapter over it that parses headers into objects.
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
        servername: isIP(host) ? undefined : host,
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
      const h = new ForwardHandler(job);
      current().dispatch({ method: job.httpMethod, path: job.upstreamPath, headers: job.forwardHeaders, body: job.body ?? null }, h);
    },
    async fetch(path, headers) {
      const r = await current().request({ method: 'GET', path, headers });
      const body = Buffer.from(await r.body.arrayBuffer());
      return { status: r.statusCode, headers: r.headers, body };
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

class ForwardHandler {
  private abort: ((err?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  private bytesOut = 0;
  private started = false;
  /** response content-length, -1 when absent */
  private length = -1;
  /** a complete small body held to go out with end(): head + body in one TLS write instead of two */
  private held: Buffer | null = null;
  private done = false;
  /** rewriteBody mode: the status and headers wait for the rewritten body; the body is gathered here */
  private rewrite: { status: number; headers: string[]; chunks: Buffer[] } | null = null;

  constructor(private readonly job: ForwardJob) {
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
    // an event stream's caller should see the response start before the first event; other responses
    // leave the head to go out with the body (one write instead of two)
    if (this.job.streaming) this.job.res.flushHeaders();
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytesOut += chunk.length;
    const tap = this.job.tap;
    if (tap !== undefined) tap.data(chunk);
    if (this.rewrite !== null) {
      if (this.bytesOut > MAX_REWRITE_BYTES) {
        this.abort?.(new Error(`the response is larger than the ${MAX_REWRITE_BYTES} bytes the gateway reads to filter it`));
        return false;
      }
      this.rewrite.chunks.push(chunk);
      return true;
    }
    // Only a chunk that IS the whole body (its length equals content-length) is held: the end of the
    // message follows at once, so nothing is delayed; anything else (SSE, chunked, partial) goes out now.
    if (this.held === null && this.bytesOut === this.length && !this.job.streaming) {
      this.held = chunk;
      return true;
    }
    const ok = this.job.res.write(chunk);
    if (!ok) this.job.res.once('drain', onCallerDrain);
    return ok;
  }

  onComplete(): void {
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
        this.job.res.writeHead(r.status, h);
        this.job.res.end(body);
        this.bytesOut = body.length;
        this.finish(undefined);
      },
      (err: unknown) => this.finish(err),
    );
  }

  onError(err: Error): void {
    if (this.started && !this.job.res.writableEnded) this.job.res.destroy();
    this.finish(err);
  }

  private finish(err: unknown): void {
    if (this.done) return;
    this.done = true;
    (this.job.res as TrackedResponse)[kHandler] = undefined;
    this.job.onEnd(this.bytesOut, err);
  }
}
