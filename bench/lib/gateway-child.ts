import './exit-with-parent.js';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../config/load.js';
import { startProxy, createMetrics, createAuditLog } from '../../proxy/index.js';
import { httpProxyUpstream } from './http-proxy-engine.js';
import { createDelegationStage, KeyRing } from '../../governance/delegation/index.js';
import { createEventBus } from '../../control/admin/events.js';
import { governanceSlot } from '../../gateway/governance-slot.js';
import { fleetGovernance } from '../../gateway/fleet-governance.js';
import { openFleet } from '../../gateway/fleet.js';
import { startGraphStream, type TurnWriter } from '../../gateway/graph-stream.js';
import type { GraphEvent } from '../../governance/graph/index.js';

/**
 * The gateway under test, in its own process (pinned by the parent): full governance on (policy, rate
 * limits that do not trip, metrics, audit log to a file). Prints {"port":N} when listening.
 */
interface ChildConfig {
  engine: 'undici' | 'undici+delegation' | 'undici+delegation+redis' | 'undici+delegation+redis+graph' | 'http-proxy-3';
  config: unknown;
  credentials: { keyPem: string; certChainPem: string; bundlePem: string; spiffeId: string; notBefore: number; notAfter: number };
  auditPath: string;
}
const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8')) as ChildConfig;
const metrics = createMetrics();
const audit = createAuditLog({ path: cfg.auditPath, flushOnSigterm: false });
const config = parseConfig(cfg.config);
// 'undici+delegation': the whole request path of `tollgate serve`, with the delegation stage (context
// verify + re-sign, loop/budget checks, call graph) in its slot, wired exactly as gateway/tollgate.ts does.
// 'undici+delegation+redis': the same, with fleet-wide governance on Redis (config.redis) behind it, as
// gateway/tollgate.ts wires it when `redis:` is configured ('+graph': with the fleet's call-graph stream too).
const silent = { info() {}, warn() {}, error() {} };
const graphed = cfg.engine === 'undici+delegation+redis+graph';
let publish: ((e: GraphEvent) => void) | undefined;
const stage = cfg.engine.startsWith('undici+delegation')
  ? createDelegationStage({
      config,
      keyring: new KeyRing({ now: Date.now, retentionMs: config.delegation.tokenTtl }),
      now: Date.now,
      feed: graphed ? (e) => publish?.(e) : undefined,
    })
  : undefined;
const slot = stage ? governanceSlot({ stage, events: createEventBus(), now: Date.now }) : undefined;
const fleet = cfg.engine.includes('+redis') && config.redis ? await openFleet(config.redis, { log: silent, onBackendUp: () => undefined }) : undefined;
const stream =
  graphed && fleet && stage && config.redis
    ? startGraphStream({
        redis: fleet.redis,
        // as gateway/tollgate.ts wires it (a build without it publishes on ioredis)
        turn: (fleet.governance as { connection?: TurnWriter }).connection,
        prefix: config.redis.prefix,
        graph: stage.graph,
        windowMs: config.graph.window,
        log: silent,
      })
    : undefined;
if (stream) publish = (e) => stream.publish(e);
const governance = slot && fleet ? fleetGovernance({ inner: slot, fleet: fleet.governance, config: () => config, log: silent }) : slot;
const gw = await startProxy({
  config,
  governance,
  credentials: () => cfg.credentials,
  revocation: { isRevoked: () => false },
  metrics,
  audit,
  upstreamFactory: cfg.engine === 'http-proxy-3' ? httpProxyUpstream : undefined,
});
process.stdout.write(JSON.stringify({ port: gw.port }) + '\n');
process.on('SIGTERM', () => {
  void gw
    .close(200)
    .then(() => audit.close())
    .then(() => stream?.close())
    .then(() => fleet?.close())
    .then(() => process.exit(0));
});
