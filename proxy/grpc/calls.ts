import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { Exchange, type ExchangeSink } from '../exchange.js';
import type { Governance } from '../governance.js';
import { grpcRefusalTrailers, httpStatusOfGrpc, refusal, RPC_CODE, writeGrpcRefusal, writeH2Refusal, type Refusal } from '../errors.js';
import { callerResponseHeaders, upstreamRequestHeaders } from '../headers.js';
import type { PipelineState } from '../pipeline.js';
import { decideIdentity, type Revocation } from '../stages/identity.js';
import { authorizeStage } from '../stages/authorize.js';
import { limitsThenGovernance, observeComplete, observeRefused, observeResponse } from '../stages/checks.js';
import { CallerState } from '../stages/caller.js';
import { InFlight } from '../stages/in-flight.js';
import { upstreamFailure, upstreamResponded } from '../stages/forward.js';
import type { Recorder } from '../stages/record.js';
import { ClientAbortError } from '../upstream/engine.js';
import { classifyUpstreamError } from '../upstream/identity.js';
import type { GrpcForwardJob } from '../upstream/grpc.js';
import type { AuditDecision } from '../audit.js';
import { decideGrpcMethod, grpcPushConfigRefusal, grpcTaskAccessRefusal, routeByTenant } from './wire.js';

/**
 * THE gRPC BINDING'S REQUEST PATH: one HTTP/2 stream = one A2A gRPC call, through the same stages as an
 * HTTP/1.1 call (pipeline.ts), over the same Exchange, in the same order:
 *
 *   1. identity    the h2 session's TLS socket's SVID (validated once per session), expiry and revocation
 *                  per call                                                     -> UNAUTHENTICATED / PERMISSION_DENIED
 *   2. binding     content-type application/grpc (anything else over h2 is refused: HTTP/2 carries only
 *                  the gRPC binding; JSON-RPC and HTTP+JSON go over HTTP/1.1)   -> HTTP 505
 *   3. method      from the path /lf.a2a.v1.A2AService/<Method> (grpc/wire.ts)  -> UNIMPLEMENTED
 *   4. body        the one request message, up to maxBodyBytes                   -> RESOURCE_EXHAUSTED
 *   5. route       the agent from the message's tenant, mapped back for the agent (grpc/wire.ts)
 *                                                                               -> INVALID_ARGUMENT / NOT_FOUND
 *   6. authorize, 7. limits, 8. governance: the same stage functions; the delegation context is read
 *                  from the `tollgate-delegation` metadata, like the HTTP header -> PERMISSION_DENIED, RESOURCE_EXHAUSTED, ...
 *   9. forward     over h2 to agents.<name>.grpc (upstream/grpc.ts), streamed both ways, trailers passed on
 *  10. record      metrics + audit line + governance (graph), exactly once; the status recorded is the HTTP
 *                  equivalent of the call's grpc-status (errors.ts httpStatusOfGrpc: OK 200, PERMISSION_DENIED 403, ...)
 *
 * Refusals are gRPC-shaped (errors.ts writeGrpcRefusal: HTTP 200, trailers-only, grpc-status + grpc-message).
 * The HTTP/1.1 path never reaches this file.
 */

const kState = Symbol('tollgate.h2session');
type TrackedSession = ServerHttp2Session & { [kState]?: { socket: TLSSocket; caller: CallerState } };

/**
 * The Exchange reads only `method` and `headers` of its request (constructor, header()); the HTTP/1.1-only
 * parts of the pipeline that read more (body listeners, writeRefusal, the undici engine) never see a gRPC
 * exchange. So a gRPC exchange carries a view with just those two, and no ServerResponse.
 */
function requestView(headers: IncomingHttpHeaders): IncomingMessage {
  return { method: headers[':method'], headers } as unknown as IncomingMessage;
}
const NO_RESPONSE = undefined as unknown as ServerResponse;

const GRPC_CONTENT_TYPE = /^application\/grpc(?:$|[+;])/;

export class GrpcCalls {
  private readonly calls: InFlight;
  /** step 8 done: forward (made once, not per call) */
  private readonly forwardCall = (ex: Exchange): void => this.forward(ex.sink as GrpcCall, ex);
  private readonly svidInvalid = (): void => this.recorder.metrics.tlsHandshakeFailures.labels('svid_invalid').inc();

  constructor(
    readonly state: PipelineState,
    readonly recorder: Recorder,
    readonly governance: Governance | undefined,
    private readonly revocation: Revocation,
    private readonly now: () => number,
  ) {
    this.calls = new InFlight(recorder);
  }

  /** resolves when no gRPC call is in flight */
  idle(): Promise<void> {
    return this.calls.idle();
  }

  /** a new h2 session on `socket` (the TLS socket it runs on: the caller's certificate is there) */
  onSession(session: ServerHttp2Session, socket: TLSSocket): void {
    (session as TrackedSession)[kState] = { socket, caller: new CallerState() };
  }

  handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    this.calls.begin();
    const rt = this.state.runtime;
    const call = new GrpcCall(this, stream);
    const ex = new Exchange(requestView(headers), NO_RESPONSE, performance.now(), this.now(), rt, call);
    call.ex = ex;

    // 1. identity
    const session = (stream.session as TrackedSession)[kState]!;
    const peer = session.caller.peerOf(session.socket, this.state.resolver, this.state.trust.gatewayId, this.svidInvalid);
    const idd = decideIdentity(peer, ex.startMs, this.revocation);
    // 2. binding (before the identity answer: its shape depends on it)
    const ct = headers['content-type'];
    call.grpc = typeof ct === 'string' && GRPC_CONTENT_TYPE.test(ct);
    if (!idd.ok) {
      if (peer.ok) ex.callerId = peer.id;
      ex.refuse(idd.refusal, 'deny', idd.close);
      return;
    }
    session.caller.admit(ex, idd.callerId, rt);
    if (!call.grpc) {
      ex.refuse(
        refusal(
          505,
          RPC_CODE.httpVersion,
          'http2_not_grpc',
          'over HTTP/2 the gateway carries only the A2A gRPC binding (content-type application/grpc): send JSON-RPC and HTTP+JSON calls over HTTP/1.1',
        ),
      );
      return;
    }
    let count = 0;
    for (const k in headers) if (k.charCodeAt(0) !== 58) count++;
    if (count > rt.config.maxHeaders) {
      const max = rt.config.maxHeaders;
      ex.refuse(
        refusal(431, RPC_CODE.tooManyHeaders, 'too_many_headers', `the request has more than ${max} metadata entries, the gateway's limit: send fewer`, {
          data: { maxHeaders: max },
        }),
      );
      return;
    }

    // 3. method, from the path
    const path = headers[':path'] ?? '';
    const m = decideGrpcMethod(path);
    if (!m.ok) {
      ex.refuse(m.refusal);
      return;
    }
    ex.method = m.method;
    ex.upstreamPath = path;
    call.tenantField = m.tenantField;

    // 4. body: the one request message
    stream.setTimeout(Math.max(rt.config.timeouts.headers, 60_000), () => call.bodyTimedOut());
    stream.on('data', (c: Buffer) => call.bodyData(ex, c));
    stream.on('end', () => call.bodyEnd(ex));
    stream.on('aborted', () => call.bodyError(ex));
  }

  /** 5.-8.: route by tenant, authorize, limits, governance; then 9. forward */
  afterBody(call: GrpcCall, ex: Exchange): void {
    const rt = ex.rt;
    const routed = routeByTenant(ex.body ?? Buffer.alloc(0), call.tenantField, rt.hasAgent);
    if (!routed.ok) {
      ex.refuse(routed.refusal);
      return;
    }
    const agent = rt.agents.get(routed.agent)!;
    ex.agent = agent;
    ex.callee = agent.name;
    ex.calleeLabel = agent.name;
    call.frame = routed.frame;
    if (agent.grpc === undefined) {
      ex.refuse(
        refusal(
          501,
          RPC_CODE.notImplemented,
          'grpc_not_declared',
          `agent "${agent.name}" has no gRPC endpoint behind the gateway (agents.${agent.name}.grpc): call it over JSON-RPC or HTTP+JSON`,
        ),
      );
      return;
    }
    if (ex.method === 'GetExtendedAgentCard') {
      // the card would come back as protobuf with the agent's own endpoints and signatures: the gateway
      // rewrites and re-signs cards only on the JSON bindings, so it does not pass one on unrewritten
      ex.refuse(
        refusal(
          501,
          RPC_CODE.notImplemented,
          'grpc_card_not_carried',
          `the extended agent card of "${agent.name}" is served through the gateway on the JSON-RPC and HTTP+JSON bindings only (rewritten and signed): call GetExtendedAgentCard there`,
        ),
      );
      return;
    }
    ex.isCall = true;
    // 6. authorize
    const denied = authorizeStage(ex.grants!, ex);
    if (denied !== undefined) {
      ex.refuse(denied);
      return;
    }
    // 6b. task ownership and push configs are checked on the JSON bindings only: on gRPC a call that would
    // need them is refused, never passed on unchecked
    const push = grpcTaskAccessRefusal(ex.method, call.frame, rt.config.taskOwners.unknownTasks) ?? grpcPushConfigRefusal(ex.method, call.frame);
    if (push !== undefined) {
      ex.refuse(push);
      return;
    }
    // 7. limits, 8. governance, then 9. forward
    limitsThenGovernance(ex, this.governance, this.forwardCall);
  }

  // 9. forward
  private forward(call: GrpcCall, ex: Exchange): void {
    if (call.stream.destroyed || call.stream.closed) {
      call.onEnd(0, undefined, new ClientAbortError());
      return;
    }
    const flat = upstreamRequestHeaders(callerMetadata(call.headers), undefined, ex.xfcc, 0, ex.upstreamHeaders);
    const h = toHeaders(flat);
    h.te = 'trailers'; // gRPC requires it; the hop-by-hop filter took the caller's
    call.grpcHeaders = h;
    try {
      ex.agent!.grpc!.forward(call);
    } catch (e) {
      call.onEnd(0, undefined, e);
    }
  }

  /** 10. record: every call ends here exactly once */
  finish(ex: Exchange): void {
    this.calls.end(ex);
  }
}

/** One gRPC call: the exchange's sink (refusals, gRPC-shaped) and the gRPC engine's job. */
class GrpcCall implements ExchangeSink, GrpcForwardJob {
  ex!: Exchange;
  grpc = true;
  tenantField = 1;
  frame: Buffer = EMPTY;
  grpcHeaders: OutgoingHttpHeaders = {};
  private over = false;

  constructor(
    private readonly calls: GrpcCalls,
    readonly stream: ServerHttp2Stream,
  ) {}

  get headers(): IncomingHttpHeaders {
    return this.ex.req.headers;
  }

  get upstreamPath(): string {
    return this.ex.upstreamPath;
  }

  bodyData(ex: Exchange, c: Buffer): void {
    if (this.over) return;
    ex.bytesIn += c.length;
    const max = ex.rt.config.maxBodyBytes;
    if (ex.bytesIn > max) {
      this.over = true;
      ex.refuse(
        refusal(413, RPC_CODE.tooLarge, 'too_large', `the request message is larger than the gateway's limit of ${max} bytes`, { data: { maxBodyBytes: max } }),
      );
      return;
    }
    if (ex.body === undefined) ex.body = c;
    else (ex.moreBody ??= []).push(c);
  }

  bodyEnd(ex: Exchange): void {
    if (this.over) return;
    this.over = true;
    this.stream.setTimeout(0);
    if (ex.moreBody !== undefined) {
      ex.body = Buffer.concat([ex.body!, ...ex.moreBody], ex.bytesIn);
      ex.moreBody = undefined;
    }
    this.calls.afterBody(this, ex);
  }

  bodyError(ex: Exchange): void {
    if (this.over) return;
    this.over = true;
    ex.decision = 'deny';
    ex.reason = 'client_abort';
    ex.status = 499;
    this.calls.finish(ex);
  }

  bodyTimedOut(): void {
    if (this.over) return;
    this.over = true;
    const ex = this.ex;
    ex.decision = 'deny';
    ex.reason = 'request_timeout';
    ex.status = 408;
    this.stream.close(); // NGHTTP2_NO_ERROR: the caller sees the stream reset
    this.calls.finish(ex);
  }

  refuse(ex: Exchange, r: Refusal, decision: AuditDecision, close: boolean): void {
    this.calls.recorder.refused(ex, r, decision);
    ex.bytesOut = this.grpc ? writeGrpcRefusal(this.stream, r) : writeH2Refusal(this.stream, r);
    if (close) this.stream.session?.close(); // GOAWAY after this stream: as `Connection: close` on HTTP/1.1
    this.calls.finish(ex);
    observeRefused(this.calls.governance, ex, r);
  }

  upstreamResponded(): string[] {
    throw new Error('a gRPC call is forwarded by the gRPC engine');
  }

  upstreamEnded(): void {
    throw new Error('a gRPC call is forwarded by the gRPC engine');
  }

  // ---- GrpcForwardJob ----

  onResponse(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
    const ex = this.ex;
    const out = upstreamResponded(ex, 200, callerMetadata(headers), this.calls.recorder);
    observeResponse(this.calls.governance, ex);
    return toHeaders(out);
  }

  onTrailers(trailers: IncomingHttpHeaders): OutgoingHttpHeaders {
    return toHeaders(callerResponseHeaders(callerMetadata(trailers)));
  }

  failTrailers(error: unknown): OutgoingHttpHeaders {
    return grpcRefusalTrailers(upstreamFailure(classifyUpstreamError(error), this.ex.callee));
  }

  onEnd(bytesOut: number, grpcStatus: number | undefined, error: unknown): void {
    const ex = this.ex;
    const calls = this.calls;
    ex.bytesOut = bytesOut;
    if (error === undefined) {
      // no grpc-status from the agent: the caller got UNAVAILABLE (failTrailers)
      ex.status = grpcStatus === undefined ? 502 : httpStatusOfGrpc(grpcStatus);
    } else if ((error as { code?: string }).code === 'ERR_TOLLGATE_CLIENT_ABORT') {
      ex.error = 'client_abort';
      ex.reason = 'client_abort';
      ex.status = 499;
    } else {
      const kind = classifyUpstreamError(error);
      const r = upstreamFailure(kind, ex.callee);
      ex.error = kind;
      ex.reason = kind;
      ex.decision = 'error';
      calls.recorder.upstreamError(ex.callee, kind);
      ex.status = r.status;
      if (!this.stream.headersSent) writeGrpcRefusal(this.stream, r);
    }
    calls.finish(ex);
    observeComplete(calls.governance, ex);
  }
}

const EMPTY = Buffer.alloc(0);

/** Metadata of an h2 header object as flat [name, value, ...], without pseudo-headers. */
function callerMetadata(headers: IncomingHttpHeaders): string[] {
  const raw: string[] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58) continue; // ':'
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) raw.push(name, x);
    else raw.push(name, v);
  }
  return raw;
}

function toHeaders(flat: readonly string[]): OutgoingHttpHeaders {
  const h: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i];
    const prev = h[name];
    if (prev === undefined) h[name] = flat[i + 1];
    else if (Array.isArray(prev)) prev.push(flat[i + 1]);
    else h[name] = [prev, flat[i + 1]];
  }
  return h;
}
