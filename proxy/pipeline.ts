import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Ctx, traceIdOf, type ExtraStages } from './context.js';
import { refusal, RPC_CODE, writeRefusal, type Refusal } from './errors.js';
import { upstreamRequestHeaders, xfccValue } from './headers.js';
import { decideMethod, AGENT_CARD_METHOD, DIRECTORY_METHOD, UNKNOWN_METHOD } from './a2a/methods.js';
import { mayDiscover, type Grants } from './policy.js';
import { callerLabel, type CompiledAgent, type Runtime } from './runtime.js';
import type { IdentityResolver, PeerIdentity } from './tls/identity.js';
import type { Trust } from './tls/trust.js';
import { decideIdentity, type Revocation } from './stages/identity.js';
import { decideRoute, upstreamPath } from './stages/route.js';
import { authorizeStage } from './stages/authorize.js';
import { limitsStage } from './stages/limits.js';
import { delegationStage } from './stages/delegation.js';
import { ForwardCall } from './stages/forward.js';
import type { Recorder } from './stages/record.js';
import type { AuditDecision } from './audit.js';
import { CardCache } from './cards.js';
import { callerVisibleOrigin, serveCard, serveDirectory } from './discovery.js';

/**
 * THE REQUEST PATH. Every request goes through these stages, in this order:
 *
 *   1. identity   (stages/identity.ts)   the connection's SVID (validated once per connection, from DER),
 *                                         re-checked per request for expiry and revocation -> 401/403;
 *                                         then the header count (config maxHeaders)            -> 431
 *   2. route      (stages/route.ts)      /a2a/<agent>/<rest> -> upstream path; bad paths 400, unknown 404.
 *                                         Before the body is read: a refused path costs no body buffering.
 *   3. body       (here)                 read up to maxBodyBytes (413), then the A2A method from the
 *                                         JSON-RPC body or the REST path
 *   4. authorize  (stages/authorize.ts)  default deny; needs the method, hence after 3          -> 403
 *   5. limits     (stages/limits.ts)     buckets + concurrency; after authorize so a denied caller cannot
 *                                         drain an allowed caller's edge or hold a callee's slots -> 429
 *   6. delegation (stages/delegation.ts) ExtraStages.beforeForward: loop / budget checks; last before the
 *                                         callee so it only sees calls that will really be made
 *   7. forward    (stages/forward.ts)    mTLS to the upstream with the gateway's SVID; streams the answer;
 *                                         afterResponse when the response headers arrive          -> 502/504
 *   8. record     (stages/record.ts)     metrics + one audit line, exactly once, whatever happened
 *
 * Stages that have nothing to do are skipped (no limits configured, no beforeForward hook).
 *
 * The delegation slot contract (ExtraStages, context.ts):
 *   - beforeForward(ctx) runs after limits, before forward; return a Refusal to answer instead of the
 *     callee (the callee never sees it); it may ctx.setUpstreamHeader('tollgate-delegation', ...). A throw
 *     or rejected promise refuses the call (503), never forwards it unchecked.
 *   - afterResponse(ctx, {status, headers, durationUs}) runs when the upstream's response headers arrive,
 *     before they go to the caller. `tollgate-cost` is passed through to the caller; an upstream
 *     `tollgate-delegation` never is.
 *   - onRefused(ctx, refusal) runs when authorize, limits or beforeForward refuse a call.
 *   - onComplete(ctx, outcome) runs once when a forwarded call ends (completed, failed, or caller gone).
 *   Refusals become HTTP status + JSON-RPC error body in ONE place: errors.ts writeRefusal.
 *
 * Cards (/.well-known/agent-card.json) and the directory (GET /a2a) go through identity, route and the
 * same policy (a card is visible only to callers allowed to call that agent), but not limits.
 */
export interface PipelineState {
  runtime: Runtime;
  trust: Trust;
  resolver: IdentityResolver;
  closing: boolean;
}

interface ConnState {
  trustGen: number;
  peer: PeerIdentity;
  rtGen: number;
  grants: Grants | null;
  callerName: string;
  callerAgent: string | undefined;
  /** the x-forwarded-client-cert value for this caller (gateway id + caller id: fixed per trust generation) */
  xfcc: string;
}

const kConn = Symbol('tollgate.conn');
type SocketWithConn = TLSSocket & { [kConn]?: ConnState };

const NO_BODY: Buffer | undefined = undefined;

/** What reading one request body needs (pipeline.handle step 3), kept on the request for the shared listeners. */
class BodyRead {
  first: Buffer | undefined = undefined;
  more: Buffer[] | undefined = undefined;
  size = 0;
  over = false;
  constructor(
    readonly pipeline: Pipeline,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly rt: Runtime,
    readonly agent: CompiledAgent,
    readonly rest: string,
    readonly query: string,
    readonly callerId: string,
    readonly callerName: string,
    readonly conn: ConnState,
    readonly t0: number,
    readonly nowMs: number,
    readonly max: number,
  ) {}
}

const kExpectsContinue = Symbol('tollgate.expectsContinue');
type ContinueRequest = IncomingMessage & { [kExpectsContinue]?: true };

const kBody = Symbol('tollgate.body');
type BodyRequest = IncomingMessage & { [kBody]?: BodyRead };
function onBodyData(this: BodyRequest, c: Buffer): void {
  const b = this[kBody]!;
  b.pipeline.bodyData(b, c);
}
function onBodyEnd(this: BodyRequest): void {
  const b = this[kBody]!;
  b.pipeline.bodyEnd(b);
}
function onBodyError(this: BodyRequest): void {
  const b = this[kBody]!;
  b.pipeline.bodyError(b);
}

export class Pipeline {
  inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly cards: CardCache;
  private readonly releaseDone: () => void;

  constructor(
    private readonly state: PipelineState,
    private readonly recorder: Recorder,
    private readonly stages: ExtraStages,
    private readonly revocation: Revocation,
    private readonly now: () => number,
  ) {
    this.cards = new CardCache(now);
    this.releaseDone = () => this.requestDone();
  }

  /** resolves when no request is in flight */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private requestDone(): void {
    if (--this.inFlight === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  private conn(sock: SocketWithConn): ConnState {
    let c = sock[kConn];
    const gen = this.state.resolver.gen;
    if (c === undefined || c.trustGen !== gen) {
      const peer = this.state.resolver.resolve(sock);
      const xfcc = peer.ok ? xfccValue(this.state.trust.gatewayId, peer.id) : '';
      c = { trustGen: gen, peer, rtGen: -1, grants: null, callerName: 'unknown', callerAgent: undefined, xfcc };
      sock[kConn] = c;
      // a certificate that passed the TLS handshake but is not a valid SVID counts as a handshake failure
      if (!c.peer.ok) this.recorder.metrics.tlsHandshakeFailures.labels('svid_invalid').inc();
    }
    return c;
  }

  /**
   * A request with `Expect: 100-continue` (the server's 'checkContinue'). Node would answer 100 Continue
   * before the request reaches us; here it goes out only when the body is about to be read (step 3), so
   * a call refused before that (401, 403, 404, 413 by Content-Length) never invites the upload.
   */
  handleExpectingContinue(req: IncomingMessage, res: ServerResponse): void {
    (req as ContinueRequest)[kExpectsContinue] = true;
    this.handle(req, res);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.inFlight++;
    const t0 = performance.now();
    const nowMs = this.now();
    const rt = this.state.runtime;
    if (this.state.closing) res.shouldKeepAlive = false;

    // 1. identity
    const conn = this.conn(req.socket as SocketWithConn);
    const idd = decideIdentity(conn.peer, nowMs, this.revocation);
    if (!idd.ok) {
      const callerId = conn.peer.ok ? conn.peer.id : '';
      this.refuse(res, idd.refusal, null, callerId, 'unknown', '', 'unknown', UNKNOWN_METHOD, 'deny', t0, 0, undefined, idd.close);
      return;
    }
    const callerId = idd.callerId;
    if (conn.rtGen !== rt.gen) {
      conn.grants = rt.policy.grantsFor(callerId);
      conn.callerName = callerLabel(rt, callerId, conn.grants);
      conn.callerAgent = rt.agentNameById.get(callerId);
      conn.rtGen = rt.gen;
    }
    const grants = conn.grants!;
    const callerName = conn.callerName;
    // Bounded header count: the callee's Node keeps only its first ~1,000 headers, and a caller must not
    // be able to crowd the gateway's own out (they are also sent first: headers.ts).
    if (req.rawHeaders.length > rt.config.maxHeaders * 2) {
      this.tooManyHeaders(res, rt.config.maxHeaders, callerId, callerName, t0, req);
      return;
    }

    // 2. route
    const httpMethod = req.method ?? 'GET';
    const route = decideRoute(req.url ?? '', httpMethod, rt.hasAgent);
    if (route.kind === 'error') {
      this.refuse(res, refusal(route.status, route.status === 404 ? RPC_CODE.notFound : RPC_CODE.badRequest, route.reason, route.message), null, callerId, callerName, '', 'unknown', UNKNOWN_METHOD, 'deny', t0, 0, traceIdOf(req.headers.traceparent), route.status === 400);
      return;
    }
    if (route.kind === 'directory') {
      void this.directory(req, res, rt, grants, callerId, callerName, t0);
      return;
    }
    const agent = rt.agents.get(route.agent)!;
    if (route.kind === 'card') {
      void this.card(req, res, agent, grants, callerId, callerName, t0);
      return;
    }

    // 3. body
    const max = rt.config.maxBodyBytes;
    const te = req.headers['transfer-encoding'];
    const cl = req.headers['content-length'];
    if (cl === undefined && te === undefined) {
      this.afterBody(req, res, rt, agent, route.rest, route.query, NO_BODY, callerId, callerName, conn, t0, nowMs);
      return;
    }
    if (cl !== undefined && Number(cl) > max) {
      this.tooLarge(res, max, callerId, callerName, agent.name, t0, Number(cl), req);
      return;
    }
    if ((req as ContinueRequest)[kExpectsContinue]) res.writeContinue();
    // One state object and three shared listeners per body, instead of three closures over this scope.
    (req as BodyRequest)[kBody] = new BodyRead(this, req, res, rt, agent, route.rest, route.query, callerId, callerName, conn, t0, nowMs, max);
    req.on('data', onBodyData);
    req.on('end', onBodyEnd);
    req.on('error', onBodyError);
  }

  /** @internal body listeners (BodyRead) */
  bodyData(b: BodyRead, c: Buffer): void {
    if (b.over) return;
    b.size += c.length;
    if (b.size > b.max) {
      b.over = true;
      this.tooLarge(b.res, b.max, b.callerId, b.callerName, b.agent.name, b.t0, b.size, b.req);
      return;
    }
    if (b.first === undefined) b.first = c;
    else (b.more ??= []).push(c);
  }

  /** @internal */
  bodyEnd(b: BodyRead): void {
    if (b.over) return;
    const body = b.more === undefined ? b.first : Buffer.concat([b.first!, ...b.more], b.size);
    this.afterBody(b.req, b.res, b.rt, b.agent, b.rest, b.query, body, b.callerId, b.callerName, b.conn, b.t0, b.nowMs);
  }

  /** @internal */
  bodyError(b: BodyRead): void {
    if (b.over) return;
    b.over = true;
    this.finishRecord(b.callerName, b.callerId, b.agent.name, b.agent.name, UNKNOWN_METHOD, 'deny', 'client_abort', 499, b.size, 0, b.t0, undefined);
  }

  private tooLarge(res: ServerResponse, max: number, callerId: string, callerName: string, callee: string, t0: number, size: number, req: IncomingMessage): void {
    const r = refusal(413, RPC_CODE.tooLarge, 'too_large', `the request body is larger than the gateway's limit of ${max} bytes`, { data: { maxBodyBytes: max } });
    this.refuse(res, r, null, callerId, callerName, callee, callee, UNKNOWN_METHOD, 'deny', t0, size, traceIdOf(req.headers.traceparent), true);
    req.resume(); // discard the rest; the connection closes after the answer
  }

  private tooManyHeaders(res: ServerResponse, max: number, callerId: string, callerName: string, t0: number, req: IncomingMessage): void {
    const r = refusal(431, RPC_CODE.tooManyHeaders, 'too_many_headers', `the request has more than ${max} headers, the gateway's limit: send fewer`, { data: { maxHeaders: max } });
    this.refuse(res, r, null, callerId, callerName, '', 'unknown', UNKNOWN_METHOD, 'deny', t0, 0, undefined, true);
    req.resume();
  }

  private afterBody(
    req: IncomingMessage,
    res: ServerResponse,
    rt: Runtime,
    agent: CompiledAgent,
    rest: string,
    query: string,
    body: Buffer | undefined,
    callerId: string,
    callerName: string,
    conn: ConnState,
    t0: number,
    nowMs: number,
  ): void {
    const httpMethod = req.method ?? 'GET';
    const m = decideMethod(httpMethod, rest, body);
    if (m.kind === 'refuse') {
      const r = refusal(400, RPC_CODE.badRequest, m.reason, m.message);
      this.refuse(res, r, m.id, callerId, callerName, agent.name, agent.name, UNKNOWN_METHOD, 'deny', t0, body?.length ?? 0, traceIdOf(req.headers.traceparent), false);
      return;
    }
    const { method, id: rpcId, isRpc } = m;
    const path = upstreamPath(agent.basePath, rest, query);
    const ctx = new Ctx(callerId, callerName, conn.callerAgent, agent.name, agent.config, method, rpcId, isRpc, body, httpMethod, path, req.headers, traceIdOf(req.headers.traceparent), nowMs);

    // 4. authorize
    const denied = authorizeStage(conn.grants!, callerId, agent.name, method);
    if (denied !== undefined) {
      this.refuseCall(res, ctx, denied, 'deny', t0);
      return;
    }
    // 5. limits
    const limiter = rt.limiter;
    if (limiter.enabled) {
      const limited = limitsStage(limiter, callerId, agent.name, nowMs);
      if (limited !== undefined) {
        this.recorder.rateLimited(callerName, agent.name, limited.reason);
        this.refuseCall(res, ctx, limited, 'limit', t0, true);
        return;
      }
    }
    // 6. delegation
    const d = delegationStage(this.stages, ctx);
    if (d === undefined) {
      this.forward(req, res, rt, agent, ctx, t0, conn.xfcc);
    } else if (typeof (d as Promise<unknown>).then === 'function') {
      (d as Promise<Refusal | undefined>).then((r) => {
        if (r === undefined) this.forward(req, res, rt, agent, ctx, t0, conn.xfcc);
        else this.refuseDelegation(res, rt, agent, ctx, r, t0);
      });
    } else {
      this.refuseDelegation(res, rt, agent, ctx, d as Refusal, t0);
    }
  }

  private refuseDelegation(res: ServerResponse, rt: Runtime, agent: CompiledAgent, ctx: Ctx, r: Refusal, t0: number): void {
    rt.limiter.release(agent.name);
    this.refuseCall(res, ctx, r, 'refuse', t0, false, 'delegation');
  }

  // 7. forward
  private forward(req: IncomingMessage, res: ServerResponse, rt: Runtime, agent: CompiledAgent, ctx: Ctx, t0: number, xfcc: string): void {
    if (res.destroyed) {
      // the caller left while a hook was deciding
      rt.limiter.release(agent.name);
      this.finishRecord(ctx.callerName, ctx.callerId, ctx.callee, ctx.callee, ctx.method, 'allow', 'client_abort', 499, ctx.body?.length ?? 0, 0, t0, ctx.traceId);
      return;
    }
    const headers = upstreamRequestHeaders(
      req.rawHeaders,
      req.headers.connection,
      xfcc,
      ctx.body === undefined ? 0 : ctx.body.length,
      ctx.upstreamHeaders,
    );
    const call = new ForwardCall(ctx.httpMethod, ctx.upstreamPath, headers, ctx.body, res, req, ctx, rt, agent, this.recorder, this.stages, t0, this.releaseDone);
    try {
      agent.upstream.forward(call);
    } catch (e) {
      call.onEnd(0, e);
    }
  }

  /** a refusal of a call that has a RequestContext (authorize, limits, delegation) */
  private refuseCall(res: ServerResponse, ctx: Ctx, r: Refusal, decision: AuditDecision, t0: number, rateLimited = false, denialReason?: string): void {
    if (!rateLimited) this.recorder.denial(ctx.callerName, ctx.callee, denialReason ?? r.reason);
    const bytesOut = writeRefusal(res, r, ctx.rpcId, false);
    this.finishRecord(ctx.callerName, ctx.callerId, ctx.callee, ctx.callee, ctx.method, decision, r.reason, r.status, ctx.body?.length ?? 0, bytesOut, t0, ctx.traceId);
    if (this.stages.onRefused !== undefined) {
      try {
        this.stages.onRefused(ctx, r);
      } catch {
        // observers cannot change the outcome
      }
    }
  }

  /** a refusal before there is a RequestContext (identity, route, body) */
  private refuse(
    res: ServerResponse,
    r: Refusal,
    rpcId: string | number | null,
    callerId: string,
    callerName: string,
    callee: string,
    calleeLabel: string,
    method: string,
    decision: AuditDecision,
    t0: number,
    bytesIn: number,
    traceId: string | undefined,
    close: boolean,
  ): void {
    this.recorder.denial(callerName, calleeLabel, r.reason);
    const bytesOut = writeRefusal(res, r, rpcId, close);
    this.finishRecord(callerName, callerId, callee, calleeLabel, method, decision, r.reason, r.status, bytesIn, bytesOut, t0, traceId);
  }

  private finishRecord(
    callerName: string,
    callerId: string,
    callee: string,
    calleeLabel: string,
    method: string,
    decision: AuditDecision,
    reason: string,
    status: number,
    bytesIn: number,
    bytesOut: number,
    t0: number,
    traceId: string | undefined,
  ): void {
    this.recorder.call(callerName, callerId, callee, calleeLabel, method, decision, reason, status, bytesIn, bytesOut, Math.round((performance.now() - t0) * 1000), traceId);
    this.requestDone();
  }

  // ---- discovery (same identity and policy; no limits) ----

  private async card(req: IncomingMessage, res: ServerResponse, agent: CompiledAgent, grants: Grants, callerId: string, callerName: string, t0: number): Promise<void> {
    const traceId = traceIdOf(req.headers.traceparent);
    if (!mayDiscover(grants, agent.name)) {
      const r = refusal(403, RPC_CODE.forbidden, 'no_rule', `${callerId} is not allowed to call agent "${agent.name}", so its card is not shown`);
      this.refuse(res, r, null, callerId, callerName, agent.name, agent.name, AGENT_CARD_METHOD, 'deny', t0, 0, traceId, false);
      return;
    }
    const o = await serveCard(this.cards, req, res, agent, callerVisibleOrigin(req, this.state.runtime.config.serverNames));
    if (o.upstreamError !== undefined) this.recorder.upstreamError(agent.name, o.upstreamError);
    this.finishRecord(callerName, callerId, agent.name, agent.name, AGENT_CARD_METHOD, o.decision, o.reason, o.status, 0, o.bytesOut, t0, traceId);
  }

  private async directory(req: IncomingMessage, res: ServerResponse, rt: Runtime, grants: Grants, callerId: string, callerName: string, t0: number): Promise<void> {
    const visible = [...rt.agents.values()].filter((a) => mayDiscover(grants, a.name));
    const o = await serveDirectory(this.cards, req, res, visible, callerVisibleOrigin(req, rt.config.serverNames));
    this.finishRecord(callerName, callerId, '', 'unknown', DIRECTORY_METHOD, o.decision, o.reason, o.status, 0, o.bytesOut, t0, traceIdOf(req.headers.traceparent));
  }
}
