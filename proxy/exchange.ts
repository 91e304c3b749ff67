import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Refusal } from '../protocol/refusal.js';
import type { AuditDecision } from './audit.js';
import { UNKNOWN_METHOD } from './a2a/methods.js';
import { RESERVED_UPSTREAM_HEADERS } from './headers.js';
import type { CompiledAgent, Runtime } from './runtime.js';
import type { Grants } from './policy.js';
import type { ChainRule } from '../config/schema.js';
import type { CallCutError, EngineCall, ForwardJob, ResponseTap } from './upstream/engine.js';
import type { CallTimeouts } from './timeouts.js';
import type { StreamTaskIdReader } from './a2a/task-id.js';
import { streamEndFrame } from './stages/forward.js';

/**
 * ONE EXCHANGE PER REQUEST: what the stages read and write, from arrival to the audit line.
 *
 * The pipeline creates it when a request arrives and hands it to every stage in order (pipeline.ts); a
 * stage reads only what an earlier one wrote. It is also the forwarding engine's job (ForwardJob) and
 * governance's view of the call (governance/delegation GovernedCall), so a forwarded call costs this one
 * object rather than a context, a body reader, a forward job and a governance view. Every field is set
 * in the constructor: V8 sees one shape.
 */
export class Exchange implements ForwardJob {
  readonly httpMethod: string;
  /** W3C trace id from a valid `traceparent`, else undefined */
  readonly traceId: string | undefined;

  // 1. identity
  callerId = '';
  /** bounded metric label: the agent name if the caller is a registered agent, else 'external' or 'unknown' */
  callerName = 'unknown';
  /** the registry name of the caller when its ID is a registered agent's id */
  callerAgent: string | undefined = undefined;
  /** what policy grants this caller (compiled once per connection and config generation) */
  grants: Grants | null = null;
  /** the x-forwarded-client-cert value for this caller */
  xfcc = '';

  // 2. route
  /** the runtime (registry, policy, limiter) this call was admitted under; a reload mid-call does not change it */
  rt: Runtime;
  agent: CompiledAgent | undefined = undefined;
  /** callee agent name ('' when the request did not route to an agent) */
  callee = '';
  /** the callee as a metric label ('unknown' when the request did not route to an agent) */
  calleeLabel = 'unknown';
  /** after /a2a/<agent>: '' or starting with '/' */
  rest = '';
  /** '' or '?...' */
  query = '';

  // 3. body (read by the pipeline's shared listeners)
  body: Buffer | undefined = undefined;
  bytesIn = 0;
  /** more body chunks after the first (rare: most bodies arrive in one) */
  moreBody: Buffer[] | undefined = undefined;
  /** the body went over maxBodyBytes or failed: later chunks are ignored */
  bodyOver = false;

  // 4. method (then authorize, limits, governance)
  /** canonical A2A method (v1.0 name, e.g. SendMessage) or 'unknown' */
  method: string = UNKNOWN_METHOD;
  /** some key in the body is taskId, task_id, contextId or context_id (decideMethod; true when the body was not scanned) */
  namesTask = true;
  /** JSON-RPC request id (null for REST calls and notifications) */
  rpcId: string | number | null = null;
  /** the body is a JSON-RPC request */
  isRpc = false;
  /** the shadow policy would decide this call differently (shadow.ts): its audit line says so */
  shadow: 'would_deny' | 'would_allow' | undefined = undefined;
  /** set by authorize when only rules with a chain condition allow the call: governance checks the chain */
  chainRules: readonly ChainRule[] | undefined = undefined;
  /** the request reached authorize: governance hears of its refusal */
  isCall = false;
  /** a concurrency slot is held (given back once, when the exchange is finished) */
  holdsSlot = false;
  /** the shadow limiter (config shadowRateLimits) holds a slot for this call: given back with the one above */
  holdsShadowSlot = false;
  /** the slot governance keeps its per-call state in; the proxy never reads it */
  governance: unknown = undefined;
  /** the A2A task the call names, or the one its response created ('' none): audit line, call graph */
  taskId = '';
  /** the A2A context the call names, or the one its created task is in ('' none) */
  contextId = '';
  /** the root task and call ids governance gave this call, for the audit line (the ids `tollgate graph --task` shows) */
  rootTaskId: string | undefined = undefined;
  callId: string | undefined = undefined;

  // 5. forward (ForwardJob)
  /** path + query sent to the upstream */
  upstreamPath = '';
  /** headers a stage adds to the upstream request, flat [name, value, ...] */
  upstreamHeaders: string[] = NO_HEADERS;
  /** the filtered request headers the engine sends upstream, flat */
  forwardHeaders: string[] = NO_HEADERS;
  /** the response is an event stream (the engine flushes the head at once) */
  streaming = false;
  /** the upstream's response headers as sent to the caller, flat */
  responseHeaders: string[] = NO_HEADERS;
  /** set by the engine while the call is in flight: ends it early (a limit passed, the kill switch) */
  engineCall: EngineCall | undefined = undefined;
  /**
   * the engine hands response body chunks to onBodyChunk: set while a reader below wants them (the kill
   * switch's task id reader, the task ownership tap), so an untapped call pays one flag check per chunk
   */
  tapBody = false;

  // the kill switch (task-calls.ts): set only for calls tracked under a root task
  /** the root task this call is tracked under */
  trackedTask: string | undefined = undefined;
  /** the callee's A2A task id, once known (the request named it, or a stream event did) */
  a2aTaskId: string | undefined = undefined;
  /** reads the response stream until an event names the task */
  taskIdReader: StreamTaskIdReader | undefined = undefined;
  /** sees the response body as it passes (stages/tasks.ts: the task a SendMessage created) */
  tap: ResponseTap | undefined = undefined;
  /** replaces a response body the caller must not see as it is (stages/tasks.ts: ListTasks) */
  rewriteBody: ((body: Buffer) => Promise<Buffer>) | undefined = undefined;

  // outcome (what recorder.record writes down)
  decision: AuditDecision = 'allow';
  reason = 'ok';
  /** HTTP status the caller got (0 until there is one; 499 when it left first) */
  status = 0;
  bytesOut = 0;
  durationUs = 0;
  /** set when the upstream failed (refused|reset|timeout|identity|other) or the caller went away ('client_abort') */
  error: string | undefined = undefined;

  private parsedRpc: Record<string, unknown> | undefined = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** performance.now() at arrival: durations */
    readonly t0: number,
    /** the injected clock at arrival (ms): expiry, buckets, windows */
    readonly startMs: number,
    rt: Runtime,
    readonly sink: ExchangeSink,
  ) {
    this.httpMethod = req.method ?? 'GET';
    this.traceId = traceIdOf(req.headers.traceparent);
    this.rt = rt;
  }

  /** the callee's registered SPIFFE ID ('' before route) */
  get calleeId(): string {
    return this.agent === undefined ? '' : this.agent.config.id;
  }

  /** ForwardJob: this call's limits, resolved at config load per (agent, method) (timeouts.ts) */
  get timeouts(): CallTimeouts {
    return this.agent!.timeouts.get(this.method)!;
  }

  /** ForwardJob: a response body chunk of a tapped call, for each reader in turn */
  onBodyChunk(chunk: Buffer): void {
    const r = this.taskIdReader;
    if (r !== undefined) {
      const id = r.push(chunk);
      if (id !== undefined) this.a2aTaskId = id;
      if (r.done) this.taskIdReader = undefined;
    }
    if (this.tap !== undefined) this.tap.data(chunk);
    else if (this.taskIdReader === undefined) this.tapBody = false;
  }

  /** ForwardJob: the closing event of a stream the gateway ends (stages/forward.ts) */
  streamEndFrame(err: CallCutError): string | undefined {
    return streamEndFrame(this, err);
  }

  /** an inbound request header, first value */
  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }

  /** an upstream response header (repeated values joined with ", ", like Fetch Headers) */
  responseHeader(name: string): string | undefined {
    const h = this.responseHeaders;
    let out: string | undefined;
    for (let i = 0; i < h.length; i += 2) if (h[i] === name) out = out === undefined ? h[i + 1] : `${out}, ${h[i + 1]}`;
    return out;
  }

  /** the parsed JSON-RPC request (undefined for REST calls); the hot path never builds it, a reader parses it once */
  get rpc(): Record<string, unknown> | undefined {
    if (!this.isRpc || this.body === undefined) return undefined;
    return (this.parsedRpc ??= JSON.parse(this.body.toString('utf8')) as Record<string, unknown>);
  }

  /**
   * Add a header to the upstream request (the name is lowercased; set it once). It replaces a header of the
   * same name sent by the caller (e.g. traceparent). Identity, framing and hop-by-hop headers are refused.
   */
  setUpstreamHeader(name: string, value: string): void {
    const n = name.toLowerCase();
    // the gateway owns identity, framing and hop-by-hop headers; a stage cannot set them
    if (RESERVED_UPSTREAM_HEADERS.has(n) || n.startsWith('x-tollgate-')) throw new TypeError(`the header "${name}" is set by the gateway itself`);
    if (this.upstreamHeaders === NO_HEADERS) this.upstreamHeaders = [];
    this.upstreamHeaders.push(n, value);
  }

  /** Answer the caller with a refusal instead of the callee, and finish the exchange. */
  refuse(r: Refusal, decision: AuditDecision = 'deny', close = false): void {
    this.sink.refuse(this, r, decision, close);
  }

  /** ForwardJob: the upstream's response headers arrived; returns the headers for the caller */
  onResponse(status: number, rawHeaders: readonly (Buffer | string)[]): string[] {
    return this.sink.upstreamResponded(this, status, rawHeaders);
  }

  /** ForwardJob: the forwarded call is over (error undefined: the response completed) */
  onEnd(bytesOut: number, error: unknown): void {
    this.sink.upstreamEnded(this, bytesOut, error);
  }
}

/** What an exchange reports to (the pipeline). */
export interface ExchangeSink {
  bodyData(ex: Exchange, chunk: Buffer): void;
  bodyEnd(ex: Exchange): void;
  bodyError(ex: Exchange): void;
  refuse(ex: Exchange, r: Refusal, decision: AuditDecision, close: boolean): void;
  upstreamResponded(ex: Exchange, status: number, rawHeaders: readonly (Buffer | string)[]): string[];
  upstreamEnded(ex: Exchange, bytesOut: number, error: unknown): void;
}

/** shared empty list until a stage adds something (most calls add no upstream header) */
const NO_HEADERS: string[] = [];

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id of a valid W3C `traceparent` (not all zeros, version not ff). */
export function traceIdOf(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string' || header.length < 55) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (m === null || header.startsWith('ff') || m[1] === '00000000000000000000000000000000') return undefined;
  return m[1];
}
