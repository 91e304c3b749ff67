import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Exchange, type ExchangeSink } from './exchange.js';
import type { Governance } from './governance.js';
import { refusal, RPC_CODE, writeRefusal, type Refusal } from './errors.js';
import { upstreamRequestHeaders } from './headers.js';
import { decideMethod, AGENT_CARD_METHOD, DIRECTORY_METHOD } from './a2a/methods.js';
import { mayDiscover, type Grants } from './policy.js';
import type { Runtime } from './runtime.js';
import type { IdentityResolver } from './tls/identity.js';
import type { Trust } from './tls/trust.js';
import { decideIdentity, type Revocation } from './stages/identity.js';
import { decideRoute, upstreamPath } from './stages/route.js';
import { authorizeStage } from './stages/authorize.js';
import { pushBody, pushConfigStage, uninspectableBody, pushEndpointReserved, pushRoute, pushUpstreamPath, reachesPushEndpoint } from './stages/push.js';
import { PUSH_NOTIFICATION_METHOD } from './a2a/methods.js';
import { limitsThenGovernance, observeComplete, observeRefused, observeResponse } from './stages/checks.js';
import { CallerState } from './stages/caller.js';
import { InFlight } from './stages/in-flight.js';
import type { TaskOwnership } from './stages/tasks.js';
import { upstreamEnded, upstreamResponded } from './stages/forward.js';
import type { Recorder } from './stages/record.js';
import { ClientAbortError } from './upstream/engine.js';
import type { AuditDecision } from './audit.js';
import { CardCache } from './cards.js';
import { callerVisibleOrigin, serveCard, serveDirectory, serveKeySet, type DiscoveryOutcome } from './discovery.js';
import { KEY_SET_METHOD, type CardSigner } from './a2a/card-signing.js';
import { EXTENDED_CARD_METHOD, forwardExtendedCard } from './stages/extended-card.js';

/**
 * THE REQUEST PATH. Every request is one Exchange (exchange.ts), created here on arrival and handed to
 * these stages, in this order; each stage reads what earlier ones wrote on it and writes its own part:
 *
 *   1. identity   (stages/identity.ts)   the connection's SVID (validated once per connection, from DER),
 *                                         re-checked per request for expiry and revocation -> 401/403;
 *                                         then the header count (config maxHeaders)            -> 431
 *   2. route      (stages/route.ts)      /a2a/<agent>/<rest> -> upstream path; bad paths 400, unknown 404.
 *                                         Before the body is read: a refused path costs no body buffering.
 *   3. body       (here)                 read up to maxBodyBytes (413), then the A2A method from the
 *                                         JSON-RPC body or the REST path (a2a/methods.ts decideMethod)
 *      (a body the callee could read differently -- Content-Encoding, a charset, a BOM -- is 415 first)
 *   4. authorize  (stages/authorize.ts)  default deny; needs the method, hence after 3; rules with chain
 *                                         conditions leave the chain to governance (6)            -> 403
 *   4b. tasks     (stages/tasks.ts)      a call naming an A2A task is its creator's (owners recorded from
 *                                         the callee's answers); ListTasks answers filtered          -> 403
 *   4c. push      (stages/push.ts)       push-config URLs must be the gateway's callback route for the
 *                                         caller -> 400/403; /a2a-push/<receiver>/ is a PushNotification
 *                                         call to the receiver's push endpoint (routed in 2, checked in 3)
 *   5. limits     (stages/limits.ts)     buckets + concurrency; after authorize so a denied caller cannot
 *                                         drain an allowed caller's edge or hold a callee's slots -> 429
 *   6. governance (stages/governance.ts) the governance slot (governance.ts): loop / budget checks; last
 *                                         before the callee so it only sees calls that will really be made
 *   7. forward    (stages/forward.ts)    the exchange is the engine's job: mTLS to the upstream with the
 *                                         gateway's SVID, the answer streamed back                -> 502/504
 *   8. record     (stages/record.ts)     metrics + one audit line, exactly once, whatever happened
 *
 * Stages that have nothing to do are skipped (no limits configured, no governance plugged in).
 * Every ending goes through finish(): the concurrency slot is given back once, the record written once.
 * Refusals become HTTP status + JSON-RPC error body in ONE place: errors.ts writeRefusal.
 *
 * Cards (/.well-known/agent-card.json) and the directory (GET /a2a) go through identity, route and the
 * same policy (a card is visible only to callers allowed to call that agent), but not limits. The key set
 * that verifies the gateway's card signatures (GET /.well-known/jwks.json) needs only identity. The
 * extended card is a call like the others until forward, where its answer is rewritten and signed
 * (stages/extended-card.ts).
 */
export interface PipelineState {
  runtime: Runtime;
  trust: Trust;
  resolver: IdentityResolver;
  closing: boolean;
  /** signs the cards the gateway serves (a2a/card-signing.ts) */
  cardSigner: CardSigner;
}

const kConn = Symbol('tollgate.conn');
type SocketWithConn = TLSSocket & { [kConn]?: CallerState };

// The body is read by three shared listeners that find their exchange on the request, instead of three
// closures per request.
const kExchange = Symbol('tollgate.exchange');
type ExchangeRequest = IncomingMessage & { [kExchange]?: Exchange };
function onBodyData(this: ExchangeRequest, c: Buffer): void {
  const ex = this[kExchange]!;
  ex.sink.bodyData(ex, c);
}
function onBodyEnd(this: ExchangeRequest): void {
  const ex = this[kExchange]!;
  ex.sink.bodyEnd(ex);
}
function onBodyError(this: ExchangeRequest): void {
  const ex = this[kExchange]!;
  ex.sink.bodyError(ex);
}

export class Pipeline implements ExchangeSink {
  private readonly calls: InFlight;
  private readonly cards: CardCache;
  /** step 6 done: forward (made once, not per call) */
  private readonly forwardCall = (ex: Exchange): void => this.forward(ex);
  private readonly svidInvalid = (): void => this.recorder.metrics.tlsHandshakeFailures.labels('svid_invalid').inc();

  constructor(
    private readonly state: PipelineState,
    private readonly recorder: Recorder,
    private readonly governance: Governance | undefined,
    private readonly revocation: Revocation,
    private readonly now: () => number,
    private readonly tasks: TaskOwnership,
  ) {
    this.calls = new InFlight(recorder);
    this.cards = new CardCache(now, state.cardSigner);
  }

  /** resolves when no request is in flight */
  idle(): Promise<void> {
    return this.calls.idle();
  }

  private conn(sock: SocketWithConn): CallerState {
    return (sock[kConn] ??= new CallerState());
  }

  /**
   * A request with `Expect: 100-continue` (the server's 'checkContinue'). Node would answer 100 Continue
   * before the request reaches us; here it goes out only when the body is about to be read (step 3), so
   * a call refused before that (401, 403, 404, 413 by Content-Length) never invites the upload.
   */
  handleExpectingContinue(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res, true);
  }

  handle(req: IncomingMessage, res: ServerResponse, expectsContinue = false): void {
    this.calls.begin();
    const rt = this.state.runtime;
    const ex = new Exchange(req, res, performance.now(), this.now(), rt, this);
    if (this.state.closing) res.shouldKeepAlive = false;

    // 1. identity
    const conn = this.conn(req.socket as SocketWithConn);
    const peer = conn.peerOf(req.socket as TLSSocket, this.state.resolver, this.state.trust.gatewayId, this.svidInvalid);
    const idd = decideIdentity(peer, ex.startMs, this.revocation);
    if (!idd.ok) {
      if (peer.ok) ex.callerId = peer.id;
      ex.refuse(idd.refusal, 'deny', idd.close);
      return;
    }
    conn.admit(ex, idd.callerId, rt);
    const grants = ex.grants!;
    // Bounded header count: the callee's Node keeps only its first ~1,000 headers, and a caller must not
    // be able to crowd the gateway's own out (they are also sent first: headers.ts).
    if (req.rawHeaders.length > rt.config.maxHeaders * 2) {
      const max = rt.config.maxHeaders;
      ex.refuse(
        refusal(431, RPC_CODE.tooManyHeaders, 'too_many_headers', `the request has more than ${max} headers, the gateway's limit: send fewer`, {
          data: { maxHeaders: max },
        }),
        'deny',
        true,
      );
      req.resume();
      return;
    }

    // 2. route
    const route = decideRoute(req.url ?? '', ex.httpMethod, rt.hasAgent);
    if (route.kind === 'error') {
      ex.refuse(
        refusal(route.status, route.status === 404 ? RPC_CODE.notFound : RPC_CODE.badRequest, route.reason, route.message),
        'deny',
        route.status === 400,
      );
      return;
    }
    if (route.kind === 'directory') {
      void this.directory(ex, grants);
      return;
    }
    if (route.kind === 'keys') {
      ex.method = KEY_SET_METHOD;
      this.discovered(ex, serveKeySet(this.cards.signer, ex.req, ex.res));
      return;
    }
    const agent = rt.agents.get(route.agent)!;
    ex.agent = agent;
    ex.callee = agent.name;
    ex.calleeLabel = agent.name;
    if (route.kind === 'card') {
      void this.card(ex, grants);
      return;
    }
    if (route.kind === 'push') {
      // the callback route (stages/push.ts): a push to `agent`, its receiver
      const p = pushRoute(ex, agent, route.rest, route.query);
      if (p !== undefined) {
        ex.refuse(p);
        return;
      }
    } else {
      if (agent.pushPathLower !== undefined && reachesPushEndpoint(agent, route.rest)) {
        ex.refuse(pushEndpointReserved(agent));
        return;
      }
      ex.rest = route.rest;
      ex.query = route.query;
    }

    // 3. body
    const te = req.headers['transfer-encoding'];
    const cl = req.headers['content-length'];
    if (cl === undefined && te === undefined) {
      this.afterBody(ex);
      return;
    }
    const max = rt.config.maxBodyBytes;
    if (cl !== undefined && Number(cl) > max) {
      ex.bytesIn = Number(cl);
      this.tooLarge(ex, max);
      return;
    }
    if (expectsContinue) res.writeContinue();
    (req as ExchangeRequest)[kExchange] = ex;
    req.on('data', onBodyData);
    req.on('end', onBodyEnd);
    req.on('error', onBodyError);
  }

  /** @internal body listener */
  bodyData(ex: Exchange, c: Buffer): void {
    if (ex.bodyOver) return;
    ex.bytesIn += c.length;
    const max = ex.rt.config.maxBodyBytes;
    if (ex.bytesIn > max) {
      ex.bodyOver = true;
      this.tooLarge(ex, max);
      return;
    }
    if (ex.body === undefined) ex.body = c;
    else (ex.moreBody ??= []).push(c);
  }

  /** @internal */
  bodyEnd(ex: Exchange): void {
    if (ex.bodyOver) return;
    if (ex.moreBody !== undefined) {
      ex.body = Buffer.concat([ex.body!, ...ex.moreBody], ex.bytesIn);
      ex.moreBody = undefined;
    }
    this.afterBody(ex);
  }

  /** @internal */
  bodyError(ex: Exchange): void {
    if (ex.bodyOver) return;
    ex.bodyOver = true;
    ex.decision = 'deny';
    ex.reason = 'client_abort';
    ex.status = 499;
    this.finish(ex);
  }

  private tooLarge(ex: Exchange, max: number): void {
    ex.refuse(
      refusal(413, RPC_CODE.tooLarge, 'too_large', `the request body is larger than the gateway's limit of ${max} bytes`, { data: { maxBodyBytes: max } }),
      'deny',
      true,
    );
    ex.req.resume(); // discard the rest; the connection closes after the answer
  }

  private afterBody(ex: Exchange): void {
    const agent = ex.agent!;
    const push = ex.method === PUSH_NOTIFICATION_METHOD;
    const m = push ? pushBody(ex) : decideMethod(ex.httpMethod, ex.rest, ex.body);
    if (m.kind === 'refuse') {
      ex.rpcId = m.id;
      ex.refuse(refusal(400, RPC_CODE.badRequest, m.reason, m.message));
      return;
    }
    ex.method = m.method;
    ex.rpcId = m.id;
    ex.isRpc = m.isRpc;
    ex.namesTask = m.namesTask;
    ex.upstreamPath = push ? pushUpstreamPath(agent, ex.rest, ex.query) : upstreamPath(agent.basePath, ex.rest, ex.query);
    ex.isCall = true;

    if (ex.body !== undefined && !push) {
      const u = uninspectableBody(ex);
      if (u !== undefined) {
        ex.refuse(u);
        return;
      }
    }
    // 4. authorize
    const denied = authorizeStage(ex.grants!, ex);
    if (denied !== undefined) {
      ex.refuse(denied);
      return;
    }
    // 4b. tasks: a task is visible only to the caller that created it (stages/tasks.ts; may ask a shared store)
    const owned = this.tasks.check(ex, ex.rt.config.taskOwners.unknownTasks);
    if (owned !== undefined) {
      void owned.then((r) => (r === undefined ? this.owned(ex, push) : ex.refuse(r)));
      return;
    }
    this.owned(ex, push);
  }

  private owned(ex: Exchange, push: boolean): void {
    // 4c. push configs: a push URL in the call must be the gateway's callback route for the caller
    if (ex.body !== undefined && !push) {
      const p = pushConfigStage(ex);
      if (p !== undefined) {
        ex.refuse(p);
        return;
      }
    }
    // 5. limits, 6. governance, then 7. forward
    limitsThenGovernance(ex, this.governance, this.forwardCall);
  }

  // 7. forward
  private forward(ex: Exchange): void {
    if (ex.res.destroyed) {
      // the caller left while governance was deciding: the call ends here (governance hears of it)
      this.upstreamEnded(ex, 0, new ClientAbortError());
      return;
    }
    ex.forwardHeaders = upstreamRequestHeaders(
      ex.req.rawHeaders,
      ex.req.headers.connection,
      ex.xfcc,
      ex.body === undefined ? 0 : ex.body.length,
      ex.upstreamHeaders,
    );
    if (ex.method === EXTENDED_CARD_METHOD) {
      void forwardExtendedCard(ex, this.cards, callerVisibleOrigin(ex.req, ex.rt.config.serverNames));
      return;
    }
    try {
      ex.agent!.upstream.forward(ex);
    } catch (e) {
      ex.onEnd(0, e);
    }
  }

  /** ExchangeSink: the upstream's response headers arrived */
  upstreamResponded(ex: Exchange, status: number, raw: readonly (Buffer | string)[]): string[] {
    const headers = upstreamResponded(ex, status, raw, this.recorder);
    observeResponse(this.governance, ex);
    return headers;
  }

  /** ExchangeSink: the forwarded call is over */
  upstreamEnded(ex: Exchange, bytesOut: number, error: unknown): void {
    upstreamEnded(ex, bytesOut, error, this.recorder);
    if (ex.tap !== undefined) ex.tap.end(error === undefined);
    this.finish(ex);
    observeComplete(this.governance, ex);
  }

  /** ExchangeSink: answer with a refusal instead of the callee */
  refuse(ex: Exchange, r: Refusal, decision: AuditDecision, close: boolean): void {
    this.recorder.refused(ex, r, decision);
    ex.bytesOut = writeRefusal(ex.res, r, ex.rpcId, close);
    this.finish(ex);
    observeRefused(this.governance, ex, r);
  }

  /** 8. record: every exchange ends here exactly once */
  private finish(ex: Exchange): void {
    this.calls.end(ex);
  }

  // ---- discovery (same identity and policy; no limits) ----

  private async card(ex: Exchange, grants: Grants): Promise<void> {
    const agent = ex.agent!;
    ex.method = AGENT_CARD_METHOD;
    if (!mayDiscover(grants, agent.name)) {
      ex.refuse(refusal(403, RPC_CODE.forbidden, 'no_rule', `${ex.callerId} is not allowed to call agent "${agent.name}", so its card is not shown`));
      return;
    }
    const o = await serveCard(this.cards, ex.req, ex.res, agent, callerVisibleOrigin(ex.req, ex.rt.config.serverNames));
    if (o.upstreamError !== undefined) this.recorder.upstreamError(agent.name, o.upstreamError);
    this.discovered(ex, o);
  }

  private async directory(ex: Exchange, grants: Grants): Promise<void> {
    ex.method = DIRECTORY_METHOD;
    const visible = [...ex.rt.agents.values()].filter((a) => mayDiscover(grants, a.name));
    this.discovered(ex, await serveDirectory(this.cards, ex.req, ex.res, visible, callerVisibleOrigin(ex.req, ex.rt.config.serverNames)));
  }

  private discovered(ex: Exchange, o: DiscoveryOutcome): void {
    ex.decision = o.decision;
    ex.reason = o.reason;
    ex.status = o.status;
    ex.bytesOut = o.bytesOut;
    this.finish(ex);
  }
}
