import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { ipFamily } from '../../certs/ip.js';
import { CodedError } from '../../protocol/errors.js';
import { upstreamSecureContext } from '../tls/trust.js';
import { UpstreamIdentity } from './identity.js';
import { ClientAbortError, type EngineOptions, type UpstreamSpec } from './engine.js';

/**
 * The gRPC engine: A2A gRPC calls forwarded over HTTP/2 to an agent's gRPC endpoint (agents.<name>.grpc).
 * One h2 session per agent (HTTP/2 multiplexes: every call is a stream on it), mTLS with the gateway's own
 * SVID; the agent must present its registered SPIFFE ID (UpstreamIdentity, as the HTTP/1.1 engine). A
 * session that closes, errs or receives GOAWAY is replaced by the next call.
 *
 * The response streams back as it comes (server-streaming methods: each message reaches the caller when the
 * agent sends it), with the caller's flow control passed upstream; the agent's trailers (grpc-status,
 * grpc-message, its own metadata) go to the caller as trailers. An upstream failure before the response
 * started is the pipeline's to answer (a gRPC refusal); after, the stream ends with `failTrailers`.
 */
export interface GrpcForwardJob {
  /** `/lf.a2a.v1.A2AService/<Method>` */
  readonly upstreamPath: string;
  /** the request metadata to send (no pseudo-headers), already filtered */
  readonly grpcHeaders: OutgoingHttpHeaders;
  /** the request: one gRPC frame */
  readonly frame: Buffer;
  /** the caller's stream */
  readonly stream: ServerHttp2Stream;
  /** the upstream's response headers arrived; returns the headers for the caller (no pseudo-headers) */
  onResponse(headers: IncomingHttpHeaders): OutgoingHttpHeaders;
  /** the trailers for the caller when the call failed after the response started */
  failTrailers(error: unknown): OutgoingHttpHeaders;
  /** trailer filter for the caller */
  onTrailers(trailers: IncomingHttpHeaders): OutgoingHttpHeaders;
  /** exactly once; `grpcStatus` from the upstream's trailers (undefined when there were none) */
  onEnd(bytesOut: number, grpcStatus: number | undefined, error: unknown): void;
}

export interface GrpcUpstream {
  forward(job: GrpcForwardJob): void;
  /** stop taking calls; resolves when in-flight ones are done */
  close(): Promise<void>;
  destroy(): Promise<void>;
}

export type GrpcUpstreamFactory = (spec: UpstreamSpec, opts: EngineOptions) => GrpcUpstream;

/** A failure of the h2 leg, with a code classifyUpstreamError knows. */
export class GrpcUpstreamError extends CodedError<'ETIMEDOUT' | 'ECONNRESET' | 'ERR_TOLLGATE_UPSTREAM_PROTOCOL'> {
  constructor(code: 'ETIMEDOUT' | 'ECONNRESET' | 'ERR_TOLLGATE_UPSTREAM_PROTOCOL', message: string) {
    super(code, message);
    this.name = 'GrpcUpstreamError';
  }
}

const { HTTP2_HEADER_STATUS, NGHTTP2_CANCEL } = http2.constants;
/** idle sessions are closed after this long (like the HTTP/1.1 pools' keep-alive) */
const SESSION_IDLE_MS = 30_000;

export function grpcUpstream(spec: UpstreamSpec, opts: EngineOptions): GrpcUpstream {
  const url = new URL(spec.origin);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const authority = url.host;
  const identity = new UpstreamIdentity(spec.id, spec.trustDomain, opts.trust, opts.now, opts.revocation);
  const secureContext = upstreamSecureContext(opts.trust);
  let session: ClientHttp2Session | undefined;
  const all = new Set<ClientHttp2Session>();
  let closing = false;

  const open = (): ClientHttp2Session => {
    const s = http2.connect(spec.origin, {
      // key, chain and bundle are in the shared context (an omitted `ca` would mean the public roots)
      secureContext,
      rejectUnauthorized: true,
      servername: ipFamily(host) ? undefined : host,
      checkServerIdentity: identity.check,
    });
    all.add(s);
    const gone = () => {
      if (session === s) session = undefined;
    };
    s.on('error', gone); // the streams on it see their own errors
    s.on('goaway', gone);
    s.on('close', () => {
      gone();
      all.delete(s);
    });
    s.setTimeout(SESSION_IDLE_MS, () => {
      gone();
      s.close();
    });
    return s;
  };
  const current = (): ClientHttp2Session => {
    // as the HTTP/1.1 engine: a revoked callee certificate on an open session drops the session
    if (session !== undefined && identity.revokedInUse()) {
      const old = session;
      session = undefined;
      identity.newPool();
      old.destroy();
    }
    if (session === undefined || session.closed || session.destroyed) session = open();
    return session;
  };
  const closeAll = (destroy: boolean) =>
    Promise.all(
      [...all].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.destroyed) {
              resolve();
              return;
            }
            s.once('close', () => resolve());
            if (destroy) s.destroy();
            else s.close();
          }),
      ),
    ).then(() => undefined);

  return {
    forward(job) {
      if (closing) {
        job.onEnd(0, undefined, new GrpcUpstreamError('ECONNRESET', 'the upstream session is closing'));
        return;
      }
      let req: ClientHttp2Stream;
      try {
        req = current().request({ ':method': 'POST', ':scheme': 'https', ':authority': authority, ':path': job.upstreamPath, ...job.grpcHeaders });
      } catch (e) {
        job.onEnd(0, undefined, e);
        return;
      }
      new GrpcForward(job, req, opts);
    },
    close() {
      closing = true;
      return closeAll(false);
    },
    destroy() {
      closing = true;
      return closeAll(true);
    },
  };
}

class GrpcForward {
  private bytesOut = 0;
  private started = false;
  private done = false;
  private trailers: OutgoingHttpHeaders | undefined = undefined;
  private grpcStatus: number | undefined = undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly job: GrpcForwardJob,
    private readonly req: ClientHttp2Stream,
    opts: EngineOptions,
  ) {
    const caller = job.stream;
    this.timer = setTimeout(() => this.fail(new GrpcUpstreamError('ETIMEDOUT', 'the agent did not answer in time')), opts.headersTimeoutMs);
    req.on('response', (headers: IncomingHttpHeaders, flags: number) => this.onResponse(headers, flags, opts.bodyTimeoutMs));
    req.on('trailers', (t: IncomingHttpHeaders) => {
      this.trailers = job.onTrailers(t);
      this.grpcStatus = statusOf(t);
    });
    req.on('data', (c: Buffer) => {
      this.bytesOut += c.length;
      if (!caller.write(c)) {
        req.pause();
        caller.once('drain', () => req.resume());
      }
    });
    req.on('end', () => this.complete());
    req.on('error', (e) => this.fail(e));
    req.on('close', () => {
      if (!this.done) this.fail(new GrpcUpstreamError('ECONNRESET', `the agent reset the call (HTTP/2 code ${req.rstCode ?? 0})`));
    });
    caller.on('close', () => {
      if (this.done) return;
      req.close(NGHTTP2_CANCEL);
      this.finish(new ClientAbortError());
    });
    req.end(job.frame);
  }

  private onResponse(headers: IncomingHttpHeaders, flags: number, bodyTimeoutMs: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const caller = this.job.stream;
    if (this.done || caller.destroyed) return;
    const status = Number(headers[HTTP2_HEADER_STATUS]);
    if (status !== 200) {
      this.fail(new GrpcUpstreamError('ERR_TOLLGATE_UPSTREAM_PROTOCOL', `the agent answered the gRPC call with HTTP ${status}`));
      return;
    }
    const out = this.job.onResponse(headers);
    this.started = true;
    if (headers['grpc-status'] !== undefined || (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      // trailers-only: the status is in these headers and nothing follows
      this.grpcStatus = statusOf(headers);
      caller.respond({ ':status': 200, ...out }, { endStream: true });
      return;
    }
    caller.respond({ ':status': 200, ...out }, { waitForTrailers: true });
    caller.once('wantTrailers', () => {
      if (!caller.destroyed)
        caller.sendTrailers(this.trailers ?? this.job.failTrailers(new GrpcUpstreamError('ECONNRESET', 'the agent ended the call without a gRPC status')));
    });
    this.req.setTimeout(bodyTimeoutMs, () => this.fail(new GrpcUpstreamError('ETIMEDOUT', 'the agent went silent mid-call')));
  }

  private complete(): void {
    if (this.done) return;
    const caller = this.job.stream;
    if (this.started && !caller.destroyed && !caller.writableEnded) caller.end(); // wantTrailers sends the agent's trailers
    this.finish(undefined);
  }

  private fail(err: unknown): void {
    if (this.done) return;
    this.req.close(NGHTTP2_CANCEL);
    const caller = this.job.stream;
    if (this.started && !caller.destroyed && !caller.writableEnded) {
      // the response started: its end carries the failure as a gRPC status
      this.trailers = this.job.failTrailers(err);
      caller.end();
    }
    this.finish(err);
  }

  private finish(err: unknown): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.job.onEnd(this.bytesOut, this.grpcStatus, err);
  }
}

function statusOf(h: IncomingHttpHeaders): number | undefined {
  const v = h['grpc-status'];
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}
