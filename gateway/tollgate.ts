/**
 * The whole gateway process, composed in order. Each step gets what the earlier ones built; close() undoes
 * them in reverse. `tollgate serve`, `npm start`, the demo and the end-to-end tests all start Tollgate here.
 *
 *   1. the store (SQLite in the data dir, or PostgreSQL for a fleet), then config: the file (or defaults),
 *      overlaid with sections saved through the admin API (kept in step by settings-sync.ts)
 *   2. metrics registry, audit log, event bus (for `ctl watch`)
 *   3. identity: CA + gateway SVID, rotating
 *   4. fleet governance on Redis, when `redis:` is set (fleet-governance.ts, fleet.ts)
 *   5. delegation core: persisted context keys, the stage (loops, budgets), the call graph (shared over
 *      a Redis stream in a fleet: graph-stream.ts); OpenTelemetry traces when `tracing:` is set (tracing.ts)
 *   6. data plane: the mTLS A2A proxy, with the delegation stage in its slot
 *   7. config changes: what an admin write, SIGHUP or another replica's write applies, in order
 *   8. control listener: identity API, admin API (built with 7), health, reflection
 *   9. metrics listener: /metrics, /graph, /graph/tasks/<id>, the live page /ui
 *  10. housekeeping timer; SIGHUP reload is reload() (the CLI wires the signal)
 */
import fs from 'node:fs';
import cluster from 'node:cluster';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { CaError } from '../ca/api.js';
import { ConfigError, loadConfigFile, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { gatewayOf, openGatewayIdentity, startControlListener, type Gateway, type GatewayLog } from '../control/gateway.js';
import type { ControlContext } from '../control/server.js';
import { PROTO_FILES } from '../control/proto.js';
import {
  ADMIN_PROTO,
  ADMIN_SERVICE_NAME,
  createAdminService,
  createEventBus,
  overlaySettings,
  registerHealthAndReflection,
  type EventBus,
  type SettingsStore,
} from '../control/admin/index.js';
import {
  CARD_SIGNING_PURPOSE,
  createAuditLog,
  createMetrics,
  LruTaskOwners,
  ProxyError,
  startMetricsServer,
  startProxy,
  TaskCalls,
  TieredTaskOwners,
  type GatewayMetrics,
  type ProxyHandle,
} from '../proxy/index.js';
import { splitHostPort } from '../proxy/metrics-server.js';
import { canonicalMethod } from '../proxy/a2a/methods.js';
import { createDelegationStage, type DelegationStage } from '../governance/delegation/index.js';
import { createGraphPage, type GraphPage } from '../ui/server.js';
import { createGraphRoutes } from '../ui/graph-routes.js';
import { agentBudgets, createGraphSource } from '../ui/source.js';
import { listenerAccess } from '../ui/access.js';
import { governanceSlot } from './governance-slot.js';
import type { GraphEvent } from '../governance/graph/index.js';
import { workerMetrics } from './cluster.js';
import { caEvents, delegationMetrics, storeSyncReporter } from './adapters.js';
import { openStores } from './stores.js';
import { openDelegationKeys } from './delegation-keys.js';
import { startSettingsSync } from './settings-sync.js';
import { explainMsg, policyDiffMsg, shadowChainHolds } from './policy-shadow.js';

export interface TollgateOptions {
  /** config file; reload() re-reads it. Without it: defaults (plus `config` if given). */
  configPath?: string;
  /** an already-parsed config (tests); ignored when configPath is set */
  config?: Config;
  dataDir: string;
  log?: GatewayLog;
  now?: () => number;
  /** housekeeping period (ms): task/graph sweeps, key rotation, CA expiry gauge */
  tickMs?: number;
  /** start although the CA's database is missing or new (`--recreate-store`); refused otherwise */
  recreateStore?: boolean;
  /** the store URL (--store / TOLLGATE_STORE), winning over the config's `store`; absent: SQLite in dataDir */
  store?: string;
  /** a worker of `serve --workers N`: /metrics serves the whole process group's (gateway/cluster.ts) */
  clusterWorker?: boolean;
}

export interface Tollgate {
  /** the running config (file + saved admin sections) */
  config(): Config;
  /** where the durable state lives */
  store: { kind: 'sqlite' | 'postgres'; location: string };
  gateway: Gateway;
  proxy: ProxyHandle;
  stage: DelegationStage;
  metrics: GatewayMetrics;
  events: EventBus;
  ports: { proxy: number; control: number; metrics: number };
  /** re-read the config file; on any error the running config stays and the promise rejects */
  reload(): Promise<Config>;
  close(): Promise<void>;
}

const silent: GatewayLog = { info() {}, warn() {}, error() {} };
const DAY = 86_400_000;
/** how often the settings saved by other processes (replicas) are looked for */
const SETTINGS_POLL_MS = 500;

/**
 * A fleet's Redis connections, with the code only a fleet runs (ioredis with it, loaded here, not at start)
 * and the `redis:` config it was opened with.
 */
async function openFleetWithCode(cfg: NonNullable<Config['redis']>, o: Parameters<typeof import('./fleet.js').openFleet>[1]) {
  const [{ openFleet }, { fleetGovernance }, { startGraphStream }, { RedisTaskOwners }] = await Promise.all([
    import('./fleet.js'),
    import('./fleet-governance.js'),
    import('./graph-stream.js'),
    import('../governance/fleet/task-owners.js'),
  ]);
  return Object.assign(await openFleet(cfg, o), { code: { fleetGovernance, startGraphStream, RedisTaskOwners }, cfg });
}

function readConfigFile(opts: TollgateOptions): Config {
  return opts.configPath ? loadConfigFile(opts.configPath) : (opts.config ?? parseConfig({}));
}

/** Create the data dir (0700) if needed and prove it is a writable directory. */
function prepareDataDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.R_OK | fs.constants.X_OK);
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new CaError('storage', `the data dir ${dir} is not usable (${code}); pass --data-dir with a writable directory`, { cause: e });
  }
}

export async function startTollgate(opts: TollgateOptions): Promise<Tollgate> {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? silent;
  const undo: (() => unknown)[] = [];
  const unwind = async () => {
    for (const f of undo.reverse()) await Promise.resolve(f()).catch(() => undefined);
  };

  try {
    // 1. the data dir (one clear error before anything opens files in it), the store, then config
    prepareDataDir(opts.dataDir);
    const fileConfig = readConfigFile(opts);
    const stores = await openStores({ store: opts.store ?? fileConfig.store, dataDir: opts.dataDir, recreateStore: opts.recreateStore, log });
    undo.push(() => stores.close());
    const settings: SettingsStore = stores.settings;
    const start = await overlaySettings(fileConfig, settings);
    let live = start.config;

    // 2. metrics, audit, events
    const metrics = createMetrics({ now });
    const auditBase = live.audit.path === '-' ? undefined : (live.audit.path ?? path.join(opts.dataDir, 'audit.log'));
    // each worker of `serve --workers N` keeps its own hash chain in its own file (<path>.w<worker id>): chains
    // interleaved in one file could not be verified, and every worker would rotate the one file
    const auditPath = auditBase !== undefined && cluster.isWorker && cluster.worker !== undefined ? `${auditBase}.w${cluster.worker.id}` : auditBase;
    const audit = createAuditLog({
      path: auditPath,
      now,
      checkpointMs: live.audit.checkpointInterval,
      rotateBytes: live.audit.rotateBytes,
      keep: live.audit.keep,
      onError: (err) => log.warn({ err }, 'audit log rotation failed; writing on to the same file'),
    });
    undo.push(() => audit.close());
    const events = createEventBus();
    undo.push(() => events.close());

    const storeSync = storeSyncReporter(metrics, log);
    // the store has just answered (stores opened, saved settings read): up from the start, not from the first poll
    storeSync(true, now());

    // 3. identity: the CA and the gateway's own SVID, rotating
    const identity = await openGatewayIdentity(live, {
      dataDir: opts.dataDir,
      now,
      log,
      caEvents: caEvents(metrics, events, log, now, storeSync),
      recreateStore: opts.recreateStore,
      store: stores.ca,
    });
    undo.push(() => identity.close());
    // checkpoints of the audit chain are signed with the gateway's SVID (it rotates; each checkpoint names its own)
    audit.setSigner(() => identity.credentials());
    metrics.setIntermediateCertNotAfter(identity.authority.intermediateNotAfter());

    // 4. fleet-wide governance on Redis (config redis:), else each process keeps its own counters
    // ioredis and the fleet's own modules are loaded only when `redis:` is configured (idle memory,
    // docs/performance.md Session 7)
    const fleet = live.redis ? await openFleetWithCode(live.redis, { log, onBackendUp: (up) => metrics.governanceBackendUp.set(up ? 1 : 0) }) : undefined;
    if (fleet) {
      metrics.governanceBackendUp.set(1);
      undo.push(() => fleet.close());
    } else {
      // no shared backend: no series (a gauge never set reads 0, "governed calls refused", and would page)
      metrics.registry.removeSingleMetric('tollgate_governance_backend_up');
    }

    // 5. delegation core: context keys (a file, or a table every replica shares, sealed with a secret of the CA
    // root); with a fleet, its call graph is shared over a Redis stream (published here, the others' applied)
    // traces (config tracing:): the OpenTelemetry packages are loaded only then
    const tracing = live.tracing ? await (await import('./tracing.js')).startTracing(live.tracing, log) : undefined;
    if (tracing) undo.push(() => tracing.close());
    const keys = await openDelegationKeys({ stores, dataDir: opts.dataDir, authority: identity.authority, now, retentionMs: live.delegation.tokenTtl, log });
    undo.push(() => keys.close());
    let publish: ((e: GraphEvent) => void) | undefined;
    const stage = createDelegationStage({
      config: live,
      keyring: keys.ring,
      now,
      log,
      metrics: delegationMetrics(metrics),
      feed: fleet ? (e) => publish?.(e) : undefined,
      canonicalMethod,
      spanIdOf: tracing ? (callId) => tracing.spanIdOf(callId) : undefined,
    });
    // the kill switch's register of calls in flight per root task (ends them, sends the callees CancelTask)
    const taskCalls = new TaskCalls({ log });
    const source = createGraphSource({ graph: stage.graph, now, budgets: () => agentBudgets(stage.windows, live.agents, now()) });
    if (fleet) {
      const stream = fleet.code.startGraphStream({
        redis: fleet.redis,
        // published in the same socket write as the turn's reservations
        turn: fleet.governance.connection,
        prefix: fleet.cfg.prefix,
        graph: stage.graph,
        windowMs: live.graph.window,
        log,
        changed: () => source.changed(),
        // another replica cancelled a task: end its calls in flight here too
        onCancel: (root) => taskCalls.cancel(root),
      });
      publish = (e) => stream.publish(e);
      undo.push(() => stream.close());
    }
    const governed = governanceSlot({ stage, events, changed: () => source.changed(), now, calls: taskCalls, log });
    const slot = tracing ? tracing.wrap(governed) : governed;

    // 6. data plane, following the SVID's rotation. Task owners: in this process, or (fleet) on Redis behind
    // this process's own records, so every replica refuses another caller's task
    const ownersCfg = live.taskOwners;
    const localOwners = new LruTaskOwners(ownersCfg.maxEntries, ownersCfg.ttl, now);
    const taskOwners = fleet
      ? new TieredTaskOwners(localOwners, new fleet.code.RedisTaskOwners({ redis: fleet.redis, prefix: fleet.cfg.prefix, ttlMs: ownersCfg.ttl }))
      : localOwners;
    let ownerErrorLogged = 0;
    const proxy = await startProxy({
      taskOwners,
      onTaskOwnerError: (err) => {
        if (now() - ownerErrorLogged < 10_000) return;
        ownerErrorLogged = now();
        log.warn({ err }, 'task owners: a record could not be written to Redis; that task is unknown to the other replicas');
      },
      config: live,
      credentials: () => identity.credentials(),
      revocation: identity.authority,
      now,
      metrics,
      audit,
      governance: fleet
        ? fleet.code.fleetGovernance({ inner: slot, fleet: fleet.governance, config: () => live, log, metrics: delegationMetrics(metrics) })
        : slot,
      // one card-signing key per CA root: every replica signs alike, one published key set verifies them all
      cardSigning: { seed: identity.authority.deriveSecret(CARD_SIGNING_PURPOSE) },
      // shadow policy: its chain conditions read from the verified context; differing calls logged (throttled)
      shadow: { chainHolds: shadowChainHolds(stage), log },
    });
    undo.push(() => proxy.close(live.timeouts.shutdown));

    // 7. config changes (admin writes, SIGHUP): the proxy validates and swaps first (it throws and keeps the
    // old config on a bad one), then the delegation core follows. Open connections see it on their next request.
    const applyConfig = (next: Config, actor: string): void => {
      try {
        proxy.reloadConfig(next);
      } catch (err) {
        // what the proxy finds wrong in a config (e.g. a policy method that is not an A2A method) is the config's
        // fault: the admin API answers FAILED_PRECONDITION naming the field, not INTERNAL
        if (err instanceof ProxyError && err.code === 'config') throw new ConfigError(err.message, { cause: err });
        throw err;
      }
      stage.reloadConfig(next);
      live = next;
      log.info({ actor }, 'config applied');
    };
    const settingsSync = startSettingsSync({
      store: settings,
      fileConfig,
      versions: start.versions,
      apply: applyConfig,
      log,
      pollMs: SETTINGS_POLL_MS,
      now,
      onPoll: storeSync,
    });
    undo.push(() => settingsSync.close());

    // 8. control listener: identity API, admin API, health + reflection; it follows the rotation before the proxy
    const control = await startControlListener(live, identity, {
      now,
      log,
      extraServices: (server: grpc.Server, ctx: ControlContext) => {
        createAdminService({
          authority: ctx.authority,
          admins: () => live.admins,
          trustDomain: live.trustDomain,
          getConfig: () => live,
          fileConfig: () => settingsSync.fileConfig(),
          applyConfig,
          settings,
          syncSettings: () => settingsSync.sync(),
          appliedSettings: () => settingsSync.applied(),
          settingsWritten: (section, version) => settingsSync.written(section, version),
          graph: {
            json: (id) => (id ? stage.graph.taskJSON(id) : stage.graph.aggregateJSON(now())),
            dot: (id) => (id ? stage.graph.taskDot(id) : stage.graph.aggregateDot(now())),
          },
          cancelTask: async (id) => {
            const ok = stage.cancelTask(id);
            if (ok) source.changed();
            // the task's calls in flight here end now, and their callees are asked to cancel (CancelTask)
            const { ended, cancelsSent } = taskCalls.cancel(id);
            if (ended > 0) log.info({ rootTaskId: id, ended, cancelsSent }, `kill switch: ${ended} call(s) of root task ${id} in flight ended`);
            // fleet-wide: every replica refuses the task's next call (and says so if the fleet knew it)
            const d = live.delegation;
            const known = fleet ? await fleet.governance.cancel(id, Math.min(d.tokenTtl, d.task.deadline) + 60_000) : false;
            return ok || known;
          },
          explain: explainMsg,
          policyDiff: (limit) => policyDiffMsg(proxy.shadow, limit),
          limitsDiff: (limit) => policyDiffMsg(proxy.limitsShadow, limit),
          events,
          now,
          peerOf: (call) => ctx.peerOf(call),
          log,
        })(server);
        registerHealthAndReflection(server, [...PROTO_FILES, ADMIN_PROTO], ['tollgate.v1.Identity', ADMIN_SERVICE_NAME]);
      },
    });
    // shutdown: no rotation from here on; the control listener closes, then the proxy drains, the CA last
    undo.push(() => {
      identity.stopRotation();
      return control.close(live.timeouts.shutdown);
    });
    const gateway = gatewayOf(live, identity, control);
    undo.push(identity.onCredentials(() => proxy.reloadCredentials()));

    // 9. metrics listener: /metrics, the graph (read-only) and the live page
    const access = listenerAccess(splitHostPort(live.listen.metrics).host, live.uiToken);
    const page: GraphPage = createGraphPage({ source, loopbackOnly: access.loopbackOnly, token: access.token, now });
    undo.push(() => page.close());
    const routes = { ...page.routes, ...createGraphRoutes({ graph: stage.graph, access, now }) };
    const metricsServer = await startMetricsServer({
      listen: live.listen.metrics,
      metrics,
      routes,
      text: opts.clusterWorker ? workerMetrics(metrics.registry) : undefined,
    });
    undo.push(() => metricsServer.close());

    // 10. housekeeping, off the request path
    const tick = setInterval(() => {
      stage.tick();
      keys.rotateIfOlderThan(DAY);
      metrics.setIntermediateCertNotAfter(identity.authority.intermediateNotAfter());
    }, opts.tickMs ?? 2000);
    tick.unref();
    undo.push(() => clearInterval(tick));

    const reload = async (): Promise<Config> => {
      const before = live;
      const next = await settingsSync.reload(readConfigFile(opts));
      for (const key of ['listen', 'trustDomain', 'ca', 'serverNames', 'audit', 'tracing'] as const) {
        if (JSON.stringify(next[key]) !== JSON.stringify(before[key]))
          log.warn({ key }, `config reload: "${key}" changed; it takes effect at the next restart`);
      }
      // Fixed when the listeners were created (the proxy's connections.proxy does apply on reload).
      const listenerLimits = (c: Config) =>
        JSON.stringify([c.timeouts.handshake, c.timeouts.controlIdle, c.timeouts.controlUnauthenticated, c.connections.controlUnauthenticated]);
      if (listenerLimits(next) !== listenerLimits(before)) {
        log.warn(
          { key: 'timeouts' },
          'config reload: timeouts.handshake, timeouts.controlIdle, timeouts.controlUnauthenticated or connections.controlUnauthenticated changed; they take effect at the next restart',
        );
      }
      if (events.subscribers > 0)
        events.publish({ time: now(), kind: 'config', actor: 'reload', summary: `config reloaded from ${opts.configPath ?? 'defaults'}` });
      return next;
    };

    let closing: Promise<void> | undefined;
    return {
      config: () => live,
      store: { kind: stores.kind, location: stores.location },
      gateway,
      proxy,
      stage,
      metrics,
      events,
      ports: { proxy: proxy.port, control: gateway.control.port, metrics: metricsServer.port },
      reload,
      close: () => (closing ??= unwind()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
