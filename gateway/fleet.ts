/**
 * The Redis connection behind fleet-wide governance (config `redis:`), opened once per process. Commands
 * fail fast when Redis is away (no offline queue, one attempt, `redis.commandTimeout`): the request path
 * must fail closed at once, not wait for a reconnect. ioredis reconnects by itself in the background.
 */
import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { GatewayLog } from '../control/gateway-identity.js';
import { RedisGovernance } from '../governance/fleet/redis-governance.js';
import { FleetError } from '../governance/fleet/errors.js';
import { redactUrl } from '../database/redact.js';

export interface Fleet {
  governance: RedisGovernance;
  /** the connection (the graph stream publishes on it) */
  redis: Redis;
  close(): Promise<void>;
}

export async function openFleet(cfg: NonNullable<Config['redis']>, o: { log: GatewayLog; onBackendUp(up: boolean): void }): Promise<Fleet> {
  const redis = new Redis(cfg.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    // Auto-pipelining measured no better than the noise here (+32-35 vs +40 us per call, runs of +-8 us) and
    // doubles the fail-closed time while Redis hangs (a command queued behind a stuck pipeline waits for it
    // to time out first): off, so a governed call is refused within one commandTimeout.
    enableAutoPipelining: false,
    maxRetriesPerRequest: 0,
    commandTimeout: cfg.commandTimeout,
    connectTimeout: Math.max(1000, cfg.commandTimeout * 4),
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let down = false;
  redis.on('error', (err) => {
    if (!down) o.log.warn({ err }, 'redis: connection failed; governed calls that need it are refused until it is back');
    down = true;
  });
  redis.on('ready', () => {
    if (down) o.log.info({}, 'redis: connected again');
    down = false;
  });
  try {
    await redis.connect();
  } catch (e) {
    redis.disconnect();
    throw new FleetError('unavailable', `cannot reach Redis at ${redactUrl(cfg.url)} (redis.url): ${(e as Error).message}`, { cause: e });
  }
  const governance = new RedisGovernance({ redis, prefix: cfg.prefix, leaseMs: cfg.leaseTtl, onBackendUp: (up) => o.onBackendUp(up) });
  try {
    // the hot path's own connection (reservations): up before the first governed call
    await governance.ready();
  } catch (e) {
    governance.close();
    redis.disconnect();
    throw new FleetError('unavailable', `cannot reach Redis at ${redactUrl(cfg.url)} (redis.url): ${(e as Error).message}`, { cause: e });
  }
  return {
    governance,
    redis,
    async close() {
      governance.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
