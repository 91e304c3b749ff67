/**
 * Task owners shared by every replica on Redis (config `redis:`): the fleet's twin of proxy/a2a/task-owners.ts
 * LruTaskOwners, with the same contract (test/contracts/task-owners.ts). One key per task,
 * `<prefix>task-owner:<callee length>:<callee>:<task id>` holding the creator's SPIFFE ID, written with SET NX (the first
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

  /** The callee's length first, so no callee and task id can run into another pair's key. */
  private key(callee: string, taskId: string): string {
    return `${this.prefix}${callee.length}:${callee}:${taskId}`;
  }

  /** SET NX; when the task already had an owner (rare: one task named to two callers), that owner is read back. */
  async recordOwner(callee: string, taskId: string, owner: string): Promise<string> {
    const key = this.key(callee, taskId);
    if ((await this.redis.set(key, owner, 'PX', this.ttlMs, 'NX')) === 'OK') return owner;
    return (await this.redis.get(key)) ?? owner; // expired in between: nobody else holds it now
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
