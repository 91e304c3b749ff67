/**
 * Task owners shared by every replica on Redis (config `redis:`): the fleet's twin of proxy/a2a/task-owners.ts
 * LruTaskOwners, with the same contract (test/contracts/task-owners.ts). One key per task,
 * `<prefix>task-owner:<callee>:<task id>` holding the creator's SPIFFE ID, written with SET NX (the first
 * record wins, on every replica) and PX (the record expires `ttlMs` after it was made).
 */
import type { Redis } from 'ioredis';

export interface RedisTaskOwnersOptions {
  redis: Redis;
  /** every key starts with it (several fleets, or tests, on one Redis) */
  prefix: string;
  /** how long a record lasts (ms) */
  ttlMs: number;
}

export class RedisTaskOwners {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(o: RedisTaskOwnersOptions) {
    this.redis = o.redis;
    this.prefix = `${o.prefix}task-owner:`;
    this.ttlMs = Math.max(1, Math.round(o.ttlMs));
  }

  /** Agent names contain no ':' (config checks them), so callee and task id cannot run into each other. */
  private key(callee: string, taskId: string): string {
    return `${this.prefix}${callee}:${taskId}`;
  }

  async recordOwner(callee: string, taskId: string, owner: string): Promise<void> {
    await this.redis.set(this.key(callee, taskId), owner, 'PX', this.ttlMs, 'NX');
  }

  async ownerOf(callee: string, taskId: string): Promise<string | undefined> {
    return (await this.redis.get(this.key(callee, taskId))) ?? undefined;
  }

  async ownersOf(callee: string, taskIds: readonly string[]): Promise<(string | undefined)[]> {
    if (taskIds.length === 0) return [];
    const v = await this.redis.mget(...taskIds.map((id) => this.key(callee, id)));
    return v.map((x) => x ?? undefined);
  }
}
