import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Trust } from '../tls/trust.js';
import { CodedError } from '../../protocol/errors.js';
import type { CallTimeouts, LimitName } from '../timeouts.js';

/**
 * The forwarding engine seam. The gateway uses proxy/upstream/undici.ts (undici Pool.dispatch, chosen by
 * measurement: see bench/gateway.ts); the benchmark plugs in an http-proxy-3 engine through the same
 * interface to compare them under identical governance.
 */
export interface UpstreamSpec {
  /** agent name */
  name: string;
  /** https://host:port of the agent's url */
  origin: string;
  /** the SPIFFE ID the upstream must present */
  id: string;
  trustDomain: string;
}

export interface EngineOptions {
  trust: Trust;
  /** time for the upstream to send response headers (ms): fetch() (cards, CancelTask); a forwarded call uses its own job.timeouts */
  headersTimeoutMs: number;
  /** longest silence between response body chunks (ms): fetch() only, as headersTimeoutMs */
  bodyTimeoutMs: number;
  now: () => number;
  /** the revocation view the caller's side uses; the callee's certificate is held to it too */
  revocation?: { isRevoked(serial: string, spiffeId: string): boolean };
}

export interface ForwardJob {
  readonly httpMethod: string;
  /** path + query on the upstream */
  readonly upstreamPath: string;
  /** flat [name, value, ...], already filtered (proxy/headers.ts) */
  readonly forwardHeaders: string[];
  readonly body: Buffer | undefined;
  readonly res: ServerResponse;
  /** the caller's request (its body is already read: use `body`) */
  readonly req: IncomingMessage;
  /** set by onResponse: the response is an event stream (flush the head at once) */
  streaming: boolean;
  /** performance.now() when the call arrived: a non-stream response's total limit counts from it */
  readonly t0: number;
  /** this call's limits (proxy/timeouts.ts): the engine enforces them */
  readonly timeouts: CallTimeouts;
  /** set by the engine for the call's lifetime: how the gateway ends it early (a limit, the kill switch) */
  engineCall: EngineCall | undefined;
  /** when true, the engine hands each response body chunk to onBodyChunk before the caller gets it (never held for it) */
  readonly tapBody: boolean;
  onBodyChunk(chunk: Buffer): void;
  /**
   * The last SSE event of a stream the gateway ends itself (a JSON-RPC error naming why), or undefined to
   * end it without one. Asked only when the stream stands at an event boundary.
   */
  streamEndFrame(err: CallCutError): string | undefined;
  /**
   * Set for a response the caller must not see as the upstream sent it (ListTasks, filtered to the caller's
   * own tasks): a 2xx, non-stream body is gathered whole (up to MAX_REWRITE_BYTES) and what this resolves
   * to is sent instead. A rejection fails the call (onEnd with the error, nothing sent yet).
   */
  readonly rewriteBody: ((body: Buffer) => Promise<Buffer>) | undefined;
  /**
   * The upstream's response headers arrived. Returns the flat headers to send to the caller. The engine then
   * writes the head and streams the body (never buffering: SSE events reach the caller as they come).
   */
  onResponse(status: number, rawHeaders: readonly (Buffer | string)[]): string[];
  /** Called exactly once. `error` undefined: the response completed. Before onResponse, the pipeline answers. */
  onEnd(bytesOut: number, error: unknown): void;
}

/** What an engine hands the job while a call is in flight. */
export interface EngineCall {
  /**
   * End the call now: before the response started, the upstream call is aborted and onEnd gets `err` (the
   * pipeline answers 504/409); after, an event stream ends cleanly (streamEndFrame, then the end of the
   * body) and any other response is cut. A finished call ignores it.
   */
  cut(err: CallCutError): void;
}

/** What an exchange's response tap is shown: each body chunk (Exchange.onBodyChunk, as the engine hands them over), then the end, by the pipeline. */
export interface ResponseTap {
  data(chunk: Buffer): void;
  /** the call is over (`complete`: the whole response arrived); called by the pipeline, not the engine */
  end(complete: boolean): void;
}

/** Largest response body an engine gathers for rewriteBody; a larger one fails the call. */
export const MAX_REWRITE_BYTES = 8 * 1024 * 1024;

export interface FetchResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A small buffered request (fetch): GET unless said otherwise; the body read up to maxBytes. */
export interface FetchInit {
  method?: string;
  body?: Buffer;
  /** read at most this many bytes plus one (a longer body is cut there, so the caller's size check sees it) */
  maxBytes?: number;
}

export interface Upstream {
  forward(job: ForwardJob): void;
  /** a small buffered request (agent cards, the extended card, the kill switch's CancelTask) through the same mTLS pool */
  fetch(path: string, headers: Record<string, string> | string[], init?: FetchInit): Promise<FetchResult>;
  /** stop taking requests; resolves when in-flight ones are done */
  close(): Promise<void>;
  destroy(): Promise<void>;
}

export type UpstreamFactory = (spec: UpstreamSpec, opts: EngineOptions) => Upstream;

/** The error an engine passes to onEnd when the caller went away first. */
export class ClientAbortError extends CodedError<'ERR_TOLLGATE_CLIENT_ABORT'> {
  constructor() {
    super('ERR_TOLLGATE_CLIENT_ABORT', 'the caller closed the connection before the response completed');
    this.name = 'ClientAbortError';
  }
}

/** The gateway ended a call itself: a limit passed (timeout) or its root task was cancelled (kill switch). */
export class CallCutError extends CodedError<'ERR_TOLLGATE_CALL_CUT'> {
  constructor(
    readonly why: 'timeout' | 'task_cancelled',
    /** timeout: which limit */
    readonly limit: LimitName | undefined,
    /** task_cancelled: the root task */
    readonly rootTaskId?: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_TOLLGATE_CALL_CUT', why === 'timeout' ? `the call passed its ${limit} limit` : `root task ${rootTaskId} was cancelled`, options);
    this.name = 'CallCutError';
  }
}
