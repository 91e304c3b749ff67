import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import type { GatewayCredentials } from '../ca/api.js';
import { ProxyError } from './errors.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import type { AuditLog } from './audit.js';
import type { Governance } from './governance.js';
import { compileRuntime, type Runtime } from './runtime.js';
import { buildTrust, tlsMaterial, type Trust } from './tls/trust.js';
import { IdentityResolver } from './tls/identity.js';
import { Pipeline, type PipelineState } from './pipeline.js';
import { Recorder } from './stages/record.js';
import type { Revocation } from './stages/identity.js';
import { splitHostPort } from './metrics-server.js';
import { undiciUpstream } from './upstream/undici.js';
import { connectionCaps } from '../config/fd-budget.js';
import { CardSigner, type CardSigningKeys } from './a2a/card-signing.js';
import type { Upstream, UpstreamFactory, UpstreamSpec } from './upstream/engine.js';
import { grpcUpstream, type GrpcUpstream, type GrpcUpstreamFactory } from './upstream/grpc.js';
import { GrpcCalls } from './grpc/calls.js';
import { ALPN_PROTOCOLS, serveH2 } from './grpc/listener.js';
import { LruTaskOwners, type TaskOwners } from './a2a/task-owners.js';
import { TaskOwnership } from './stages/tasks.js';
import { ShadowDiffs, type ShadowOptions } from './shadow.js';
import type { LimitsShadowVerdict } from './ratelimit/shadow.js';

/**
 * TLS termination and lifecycle: the mTLS listener serving the gateway's own SVID, certificate hot swap,
 * config reload, graceful shutdown. Each HTTP/1.1 request goes to the pipeline (pipeline.ts); a connection
 * that negotiated h2 (gRPC clients) goes to grpc/listener.ts and its calls to grpc/calls.ts.
 */
export interface ProxyOptions {
  config: Config;
  /** the gateway's current credentials; called at start and on every reloadCredentials() */
  credentials: () => GatewayCredentials;
  revocation: Revocation;
  now?: () => number;
  metrics?: GatewayMetrics;
  audit?: AuditLog;
  /** the governance slot (governance.ts); none: calls are decided by policy and limits alone */
  governance?: Governance;
  /** forwarding engine (default undici Pool.dispatch); the benchmark swaps in others */
  upstreamFactory?: UpstreamFactory;
  /** gRPC forwarding engine (default upstream/grpc.ts) */
  grpcUpstreamFactory?: GrpcUpstreamFactory;
  /** override config.listen.proxy (tests: '127.0.0.1:0') */
  listen?: string;
  /**
   * the key the gateway signs the cards it serves with (a2a/card-signing.ts); the gateway derives it from
   * the CA root so every replica signs alike. Absent: a random key for this process.
   */
  cardSigning?: CardSigningKeys;
  /** who created which task (default: in this process, bounded by config taskOwners); a fleet shares one on Redis */
  taskOwners?: TaskOwners;
  /** a task owner record could not be written (the shared store failed) */
  onTaskOwnerError?: (err: unknown) => void;
  /** shadow policy (config shadowPolicy): how its chain conditions are read, where differing calls are logged */
  shadow?: Omit<ShadowOptions, 'now'>;
}

export interface ProxyHandle {
  port: number;
  server: https.Server;
  metrics: GatewayMetrics;
  /** re-read credentials(): swap the listener's certificate and rebuild upstream pools; open connections stay */
  reloadCredentials(): void;
  /** apply a new config (registry, policy, limits, timeouts); throws ProxyError and keeps the old one if invalid */
  reloadConfig(config: Config): void;
  /** the calls the shadow policy would decide differently, since the policy or its shadow last changed */
  shadow: ShadowDiffs;
  /** the calls the shadow rate limits would decide differently, since the rate limits or their shadow last changed */
  limitsShadow: ShadowDiffs<LimitsShadowVerdict>;
  /** stop accepting, let in-flight calls finish (up to graceMs, default config.timeouts.shutdown), flush logs */
  close(graceMs?: number): Promise<void>;
}

function handshakeReason(err: Error & { code?: string }): string {
  const code = err.code ?? '';
  if (code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') return 'no_client_cert';
  if (code.includes('CERTIFICATE_VERIFY_FAILED') || (code.includes('UNKNOWN_CA') && !code.includes('ALERT'))) return 'bad_client_cert';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  if (code.includes('ALERT')) return 'client_alert'; // the client refused the gateway (e.g. it does not trust our certificate)
  if (/HTTP_REQUEST|VERSION|PROTOCOL|CIPHER|WRONG/.test(code)) return 'protocol';
  return 'other';
}

// http/1.1 first: a client offering both keeps HTTP/1.1; gRPC clients offer only h2 (grpc/listener.ts)
const TLS_OPTIONS = { minVersion: 'TLSv1.2' as const, ALPNProtocols: ALPN_PROTOCOLS };

function applyLimits(server: https.Server, config: Config): void {
  server.headersTimeout = config.timeouts.headers;
  server.requestTimeout = Math.max(config.timeouts.headers, 60_000);
  server.keepAliveTimeout = config.timeouts.idle;
  // Over the cap Node closes a new connection on accept, before the TLS handshake costs anything.
  server.maxConnections = connectionCaps(config).proxy;
}

/**
 * Node enforces headersTimeout and requestTimeout only when it sweeps its connections, every 30 s by
 * default: a 10 s headers timeout then fired after 10-40 s. Sweeping twice a second makes the configured
 * values hold to within half a second; the sweep only walks the open connections.
 */
const CONNECTIONS_CHECKING_INTERVAL_MS = 500;

export async function startProxy(opts: ProxyOptions): Promise<ProxyHandle> {
  const now = opts.now ?? Date.now;
  const metrics = opts.metrics ?? createMetrics();
  const factory = opts.upstreamFactory ?? undiciUpstream;
  const grpcFactory = opts.grpcUpstreamFactory ?? grpcUpstream;

  let trust: Trust;
  try {
    trust = buildTrust(opts.credentials(), undefined, now());
  } catch (e) {
    if (e instanceof ProxyError) throw e;
    throw new ProxyError('credentials', `cannot load the gateway credentials: ${(e as Error).message}`, { cause: e });
  }
  const cardSigner = await CardSigner.create(opts.cardSigning);
  const state: PipelineState = { runtime: undefined as unknown as Runtime, trust, resolver: new IdentityResolver(trust, now), closing: false, cardSigner };
  // Pools are built with the trust material and timeouts current when they open; a change of either opens new ones.
  const engineOptions = (config: Config) => ({
    trust: state.trust,
    headersTimeoutMs: config.timeouts.upstream,
    bodyTimeoutMs: Math.max(config.timeouts.idle, config.timeouts.upstream),
    now,
    revocation: opts.revocation,
  });
  const openWith =
    (config: Config) =>
    (spec: UpstreamSpec): Upstream =>
      factory(spec, engineOptions(config));
  const openGrpcWith =
    (config: Config) =>
    (spec: UpstreamSpec): GrpcUpstream =>
      grpcFactory(spec, engineOptions(config));
  const shadow = new ShadowDiffs(metrics.policyShadowDiff, { ...opts.shadow, now });
  const limitsShadow = new ShadowDiffs<LimitsShadowVerdict>(metrics.limitsShadowDiff, { log: opts.shadow?.log, kind: 'limits', now });
  state.runtime = compileRuntime(opts.config, undefined, openWith(opts.config), openGrpcWith(opts.config), shadow, limitsShadow).runtime;
  const destroyUpstreams = () =>
    Promise.all(
      [...state.runtime.agents.values()].flatMap((a) => [a.upstream.destroy(), a.grpc?.destroy() ?? Promise.resolve()]).map((p) => p.catch(() => {})),
    );

  const recorder = new Recorder(metrics, opts.audit);
  const owners = opts.taskOwners ?? new LruTaskOwners(opts.config.taskOwners.maxEntries, opts.config.taskOwners.ttl, now);
  const tasks = new TaskOwnership({ owners, onRecordError: opts.onTaskOwnerError && ((err) => opts.onTaskOwnerError!(err)) });
  const pipeline = new Pipeline(state, recorder, opts.governance, opts.revocation, now, tasks);
  const grpcCalls = new GrpcCalls(state, recorder, opts.governance, opts.revocation, now);
  metrics.setGatewayCertNotAfter(() => state.trust.credentials.notAfter);

  const server = https.createServer(
    {
      ...tlsMaterial(trust),
      ...TLS_OPTIONS,
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: opts.config.timeouts.handshake,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    },
    (req, res) => pipeline.handle(req, res),
  );
  const h2 = serveH2(server, grpcCalls, opts.config.timeouts.idle);
  applyLimits(server, opts.config);
  server.on('checkContinue', (req, res) => pipeline.handleExpectingContinue(req, res));
  const sockets = new Set<Socket>();
  server.on('secureConnection', (sock: TLSSocket) => {
    metrics.openConnections.inc();
    sockets.add(sock);
    sock.once('close', () => {
      metrics.openConnections.dec();
      sockets.delete(sock);
    });
  });
  server.on('tlsClientError', (err: Error, sock: TLSSocket) => {
    // A certificate that fails verification makes Node destroy the socket quietly (the error seen here is
    // then a generic hang-up); the verification result is still on the socket.
    const reason = (sock as TLSSocket & { authorizationError?: unknown })?.authorizationError ? 'bad_client_cert' : handshakeReason(err);
    metrics.tlsHandshakeFailures.labels(reason).inc();
  });

  try {
    const { host, port } = splitHostPort(opts.listen ?? opts.config.listen.proxy);
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => reject(new ProxyError('listen', `cannot listen on ${host}:${port}: ${e.code ?? e.message}`, { cause: e }));
      server.once('error', onError);
      server.listen(port, host, () => {
        server.removeListener('error', onError);
        resolve();
      });
    });
  } catch (e) {
    await destroyUpstreams();
    throw e;
  }

  let closed: Promise<void> | undefined;
  return {
    port: (server.address() as { port: number }).port,
    server,
    metrics,
    shadow,
    limitsShadow,
    reloadCredentials() {
      const t = buildTrust(opts.credentials(), state.trust, now());
      // The FULL option set: setSecureContext rebuilds the context from only what it is given, and an
      // omitted `ca` would silently become the public roots.
      server.setSecureContext({ ...tlsMaterial(t), ...TLS_OPTIONS });
      state.trust = t;
      state.resolver.setTrust(t);
      // New pools for new connections with the new SVID; the old ones drain their in-flight calls and close.
      const open = openWith(state.runtime.config);
      const openGrpc = openGrpcWith(state.runtime.config);
      for (const agent of state.runtime.agents.values()) {
        const old = agent.upstream;
        agent.upstream = open(agent.spec);
        void old.close().catch(() => {});
        const oldGrpc = agent.grpc;
        if (oldGrpc !== undefined && agent.grpcSpec !== undefined) {
          agent.grpc = openGrpc(agent.grpcSpec);
          void oldGrpc.close().catch(() => {});
        }
      }
    },
    reloadConfig(config: Config) {
      const prev = state.runtime;
      const open = openWith(config);
      const openGrpc = openGrpcWith(config);
      const { runtime, retired } = compileRuntime(config, prev, open, openGrpc, shadow, limitsShadow);
      // what was counted compared these two rule sets: a change of either starts the count again
      const rules = (c: Config) => JSON.stringify([c.policy, c.shadowPolicy]);
      if (rules(prev.config) !== rules(config)) shadow.reset();
      const limits = (c: Config) => JSON.stringify([c.rateLimits, c.shadowRateLimits]);
      if (limits(prev.config) !== limits(config)) limitsShadow.reset();
      if (prev.config.timeouts.upstream !== config.timeouts.upstream || prev.config.timeouts.idle !== config.timeouts.idle) {
        // kept pools carry the old timeouts: replace them too
        for (const agent of runtime.agents.values()) {
          const before = prev.agents.get(agent.name);
          if (before === undefined) continue;
          if (before.upstream === agent.upstream) {
            retired.push(agent.upstream);
            agent.upstream = open(agent.spec);
          }
          if (agent.grpc !== undefined && agent.grpcSpec !== undefined && before.grpc === agent.grpc) {
            retired.push(agent.grpc);
            agent.grpc = openGrpc(agent.grpcSpec);
          }
        }
      }
      state.runtime = runtime;
      applyLimits(server, config);
      h2.setIdleTimeout(config.timeouts.idle);
      for (const u of retired) void u.close().catch(() => {});
    },
    close(graceMs?: number) {
      if (closed) return closed;
      const grace = graceMs ?? state.runtime.config.timeouts.shutdown;
      state.closing = true;
      closed = (async () => {
        const serverClosed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        h2.closeSessions();
        // Keep closing connections as their last response completes, until in-flight calls are done or time is up.
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all([pipeline.idle(), grpcCalls.idle()]), new Promise<void>((r) => (timer = setTimeout(r, grace)))]);
        clearInterval(sweep);
        clearTimeout(timer);
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        await serverClosed;
        await destroyUpstreams();
        await opts.audit?.flushed();
      })();
      return closed;
    },
  };
}
