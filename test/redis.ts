/**
 * Redis for a test: the machine's server (127.0.0.1:6379; `.ci/run` starts it when it is down, TOLLGATE_TEST_REDIS
 * overrides), a key prefix of the test's own, and cleanup of every key under it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.TOLLGATE_TEST_REDIS ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  prefix: string;
  /** a new client (closed by cleanup) */
  client(): Redis;
  cleanup(): Promise<void>;
}

export function testRedis(): TestRedis {
  const prefix = `tgtest:${randomBytes(5).toString('hex')}:`;
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis(TEST_REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };
  return {
    prefix,
    client,
    async cleanup() {
      const c = new Redis(TEST_REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length) await c.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      c.disconnect();
      for (const x of clients) x.disconnect();
    },
  };
}

/**
 * A redis-server of the test's own on `port` (a foreground child, no persistence), for tests that stop,
 * freeze or kill it; resolves once it accepts connections.
 */
export async function spawnRedisServer(port: number, extra: readonly string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
  });
  return child;
}
