/**
 * Governance shared by every worker and replica on Redis: the rate-limit buckets, the per-callee
 * concurrency caps and the per-root-task budgets (maxCalls, maxFanOut, maxConcurrent, maxCost) and
 * cancellations, checked and reserved in ONE atomic script per governed call (scripts.ts).
 *
 * Cheap on the hot path:
 *  - one round trip per governed call (every call belongs to a task whose budget is shared);
 *  - a key refused for being over its limit is refused locally until its retry time (as Envoy's
 *    ratelimit caches over-limit keys), so a flood against a full bucket costs no round trips;
 *  - releases and lease renewals are batched off the request path;
 *  - the reservations and releases go over a minimal client of their own (resp.ts: one socket write per
 *    event-loop turn, no per-command objects or timers); the rest uses ioredis.
 *
 * Exact where it promises exactness: buckets, concurrency and task budgets are decided on the server,
 * once; a replica that dies gives its slots back when their leases expire (renewed while calls run).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CANCEL_LUA, COST_LUA, RELEASE_LUA, RENEW_LUA, RESERVE_LUA } from './scripts.js';
import { bulk, RespConnection, RespScript, type Reply } from './resp.js';

export interface Rate {
  rps: number;
  burst: number;
}

export interface TaskBudget {
  maxCalls: number;
  maxFanOut: number;
  maxConcurrent: number;
  maxCost: number | undefined;
}

export interface ReserveRequest {
  callerId: string;
  callee: string;
  perCaller: Rate | undefined;
  perEdge: Rate | undefined;
  maxConcurrentPerCallee: number | undefined;
  /** the calling agent's windows (agents.<name>.limits), when it is a registered agent with limits */
  agent?: { name: string; limits: AgentWindowLimits };
  /** the call's root task: `new` for a call that starts one, else the task it continues */
  task: { rootTaskId: string; isNew: boolean; parentCallId: string | undefined; budget: TaskBudget; ttlMs: number } | undefined;
}

export interface AgentWindowLimits {
  callsPerMinute?: number;
  callsPerHour?: number;
  callsPerDay?: number;
  costPerDay?: number;
}

export type WindowReason = 'callsPerMinute' | 'callsPerHour' | 'callsPerDay' | 'costPerDay';
export type FleetRefusalReason = 'caller' | 'edge' | 'concurrency' | 'cancelled' | 'max_calls' | 'fan_out' | 'task_concurrency' | 'max_cost' | WindowReason;

export type ReserveResult =
  { ok: true; lease: Lease | undefined } | { ok: false; reason: FleetRefusalReason; retryAfterMs: number; detail: string; local: boolean };

/** Slots a reservation holds until release(): the callee's concurrency slot and the task's in-flight slot. */
export interface Lease {
  readonly id: string;
  readonly calleeKey: string;
  readonly taskKey: string;
}

export interface RedisGovernanceOptions {
  redis: Redis;
  /** every key starts with it (several fleets, or tests, on one Redis) */
  prefix: string;
  /** how long a slot is held without renewal (a dead replica's slots come back after this), ms */
  leaseMs?: number;
  /** local clock, for the over-limit cache only (ms) */
  now?: () => number;
  onBackendUp?: (up: boolean) => void;
}

interface ScriptedRedis {
  tgRenew(...args: (string | number)[]): Promise<number>;
  tgCost(...args: (string | number)[]): Promise<number>;
  tgCancel(...args: (string | number)[]): Promise<number>;
}

const DEFAULT_LEASE_MS = 60_000;
const RESERVE = new RespScript(RESERVE_LUA);
const RELEASE = new RespScript(RELEASE_LUA);
/** numkeys of the reserve script, as the first bulk of its tail */
const SEVEN = bulk('7');

/** how often a backend marked down is probed */
const PROBE_MS = 1000;

export class RedisGovernance {
  private readonly redis: Redis & ScriptedRedis;
  /** the hot path's own connection (reservations, releases, the probe) */
  private readonly conn: RespConnection;
  private readonly prefix: string;
  /** `<prefix>none:`, the key of a part that does not apply, and as a bulk string */
  private readonly none: string;
  private readonly noneBulk: string;
  private readonly leaseMs: number;
  private readonly now: () => number;
  /** over-limit keys and the local time until which they are refused without asking Redis */
  private readonly overLimit = new Map<string, { until: number; reason: FleetRefusalReason }>();
  /** leases held by calls in flight here, renewed every leaseMs / 3 */
  private readonly held = new Map<string, Lease>();
  private readonly renewTimer: NodeJS.Timeout;
  private up = true;
  /** while the backend is down: a PING every PROBE_MS, so it is seen back without waiting for a call */
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onBackendUp?: (up: boolean) => void;
  private readonly leasePrefix = randomBytes(6).toString('base64url');
  private leaseSeq = 0;

  constructor(o: RedisGovernanceOptions) {
    this.prefix = o.prefix;
    this.leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    this.now = o.now ?? Date.now;
    this.onBackendUp = o.onBackendUp;
    this.none = `${o.prefix}none:`;
    this.noneBulk = bulk(this.none);
    const r = o.redis as Redis & ScriptedRedis;
    r.defineCommand('tgRenew', { lua: RENEW_LUA });
    r.defineCommand('tgCost', { numberOfKeys: 2, lua: COST_LUA });
    r.defineCommand('tgCancel', { numberOfKeys: 1, lua: CANCEL_LUA });
    this.redis = r;
    this.renewTimer = setInterval(() => void this.renew(), Math.max(1000, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
    // the connection's own news: a lost connection is down at once (even with no call to notice it), and a
    // reconnect is checked at once
    r.on('close', () => this.mark(false));
    r.on('ready', () => void this.probe());
    // the same server, on a connection of its own (ioredis's options: host or path, TLS, credentials, db, timeouts)
    const ro = r.options;
    this.conn = new RespConnection({
      host: ro.host,
      port: ro.port,
      path: ro.path,
      tls: ro.tls,
      username: ro.username,
      password: ro.password,
      db: ro.db,
      commandTimeout: ro.commandTimeout,
      connectTimeout: ro.connectTimeout,
      retryStrategy: ro.retryStrategy ?? undefined,
    });
    this.conn.onState((up) => (up ? void this.probe() : this.mark(false)));
    this.conn.onFlush(this.flushReleases);
  }

  /** The hot path's connection: what else writes with each turn (the call graph stream) goes on it. */
  get connection(): RespConnection {
    return this.conn;
  }

  /** Resolves once the hot path's connection is up (the gateway waits for it before serving). */
  ready(): Promise<void> {
    return this.conn.whenReady();
  }

  /** Whether the last exchange with Redis succeeded. */
  get backendUp(): boolean {
    return this.up;
  }

  private mark(up: boolean): void {
    if (up !== this.up) {
      this.up = up;
      this.onBackendUp?.(up);
    }
    // marked down: probe until it answers. Without it the state (and tollgate_governance_backend_up) only
    // moved with calls: after an outage with no call since, it said "down" for ever (and the alert fired).
    if (!up && this.probeTimer === undefined && !this.closed) {
      this.probeTimer = setInterval(() => void this.probe(), PROBE_MS);
      this.probeTimer.unref();
    }
    if (up && this.probeTimer !== undefined) {
      clearInterval(this.probeTimer);
      this.probeTimer = undefined;
    }
  }

  private async probe(): Promise<void> {
    if (this.up || this.closed) return;
    try {
      await this.conn.command(['PING']);
      this.mark(true);
    } catch {
      // still down: the next probe asks again
    }
  }

  /**
   * Check everything that applies and reserve it, atomically. Rejects when Redis cannot be reached (the
   * caller decides to fail closed); resolves with the first limit that refused otherwise.
   */
  async reserve(r: ReserveRequest): Promise<ReserveResult> {
    const p = this.prefix;
    const none = this.none;
    const callerKey = r.perCaller ? `${p}bc:${r.callerId}` : none;
    const edgeKey = r.perEdge ? `${p}be:${r.callerId}|${r.callee}` : none;
    const calleeKey = `${p}cc:${r.callee}`;
    const local = this.cached(callerKey, edgeKey);
    if (local) return local;
    const t = r.task;
    const taskKey = t ? `${p}t:${t.rootTaskId}` : none;
    const leasesKey = t ? `${p}ti:${t.rootTaskId}` : none;
    const leaseId = `${this.leasePrefix}.${(this.leaseSeq++).toString(36)}`;
    // KEYS 1-7 and ARGV[1], which packs the 18 values (scripts.ts): every value below ends with a newline
    const nb = this.noneBulk;
    const tail =
      SEVEN +
      (r.perCaller ? bulk(callerKey) : nb) +
      (r.perEdge ? bulk(edgeKey) : nb) +
      bulk(calleeKey) +
      (t ? bulk(taskKey) + bulk(`${p}tf:${t.rootTaskId}`) + bulk(leasesKey) : nb + nb + nb) +
      (r.agent ? bulk(this.windowKey(r.agent.name)) : nb) +
      bulk(
        `${r.perCaller?.rps ?? 0}\n${r.perCaller?.burst ?? 0}\n${r.perEdge?.rps ?? 0}\n${r.perEdge?.burst ?? 0}\n${r.maxConcurrentPerCallee ?? 0}\n${this.leaseMs}\n${leaseId}\n${
          t === undefined ? 0 : t.isNew ? 1 : 2
        }\n${t?.budget.maxCalls ?? 0}\n${t?.budget.maxFanOut ?? 0}\n${t?.budget.maxConcurrent ?? 0}\n${t?.budget.maxCost ?? -1}\n${t?.parentCallId ?? ''}\n${t?.ttlMs ?? 0}\n${
          r.agent?.limits.callsPerMinute ?? -1
        }\n${r.agent?.limits.callsPerHour ?? -1}\n${r.agent?.limits.callsPerDay ?? -1}\n${r.agent?.limits.costPerDay ?? -1}\n`,
      );
    let reply: Reply;
    try {
      reply = await this.conn.evalsha(RESERVE, 9, tail);
    } catch (e) {
      this.mark(false);
      throw e;
    }
    this.mark(true);
    const [verdict, retryAfterMs, detail] = reply as [string, number, string];
    if (verdict === 'ok') {
      const holds = r.maxConcurrentPerCallee !== undefined || t !== undefined;
      if (!holds) return { ok: true, lease: undefined };
      const lease: Lease = {
        id: leaseId,
        calleeKey: r.maxConcurrentPerCallee !== undefined ? calleeKey : none,
        taskKey: t ? leasesKey : `${p}ti:`,
      };
      this.held.set(leaseId, lease);
      return { ok: true, lease };
    }
    const reason = verdict as FleetRefusalReason;
    // a bucket's retry time is exact (tokens refill at a known rate); a concurrency slot frees at any moment: not cached
    if (retryAfterMs > 0 && (reason === 'caller' || reason === 'edge')) {
      this.overLimit.set(reason === 'caller' ? callerKey : edgeKey, { until: this.now() + retryAfterMs, reason });
    }
    return { ok: false, reason, retryAfterMs, detail, local: false };
  }

  private cached(...keys: string[]): ReserveResult | undefined {
    if (this.overLimit.size === 0) return undefined;
    const now = this.now();
    for (const k of keys) {
      const e = this.overLimit.get(k);
      if (e === undefined) continue;
      if (now < e.until) return { ok: false, reason: e.reason, retryAfterMs: e.until - now, detail: '', local: true };
      this.overLimit.delete(k);
    }
    return undefined;
  }

  /**
   * Give the call's slots back (the call ended). Batched: every lease released in one event-loop turn goes
   * in one script call, written with the turn's reservations. Never throws: a lost release expires with its lease.
   */
  release(lease: Lease | undefined): void {
    if (lease === undefined || !this.held.delete(lease.id)) return;
    this.releasing.push(lease);
    if (this.releasing.length === 1) this.conn.schedule();
  }

  private releasing: Lease[] = [];
  /** runs just before the connection's write of the turn */
  private readonly flushReleases = (): void => {
    const batch = this.releasing;
    if (batch.length === 0) return;
    this.releasing = [];
    let keys = '';
    let ids = '';
    for (const l of batch) {
      keys += bulk(l.calleeKey) + bulk(l.taskKey);
      ids += bulk(l.id);
    }
    this.conn.evalsha(RELEASE, 1 + batch.length * 3, bulk(String(batch.length * 2)) + keys + ids).then(
      () => this.mark(true),
      () => this.mark(false),
    );
  };

  /** Add a reported cost to the task's fleet-wide spend and, when given, to the calling agent's cost-per-day window. */
  async addCost(rootTaskId: string, amount: number, agent?: string): Promise<void> {
    await this.redis.tgCost(`${this.prefix}t:${rootTaskId}`, agent === undefined ? this.none : this.windowKey(agent), amount, agent === undefined ? '0' : '1');
  }

  /** an agent's window keys share one hash tag (the derived keys live on the same slot) */
  private windowKey(agent: string): string {
    return `${this.prefix}w:{${agent}}`;
  }

  /** The kill switch, fleet-wide: every replica refuses the task's next call. Resolves whether the fleet knew the task. */
  async cancel(rootTaskId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.tgCancel(`${this.prefix}t:${rootTaskId}`, ttlMs)) === 1;
  }

  /** Extend the leases of calls still running here (long streams keep their slots). */
  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const keys: string[] = [];
    const ids: string[] = [];
    for (const l of this.held.values()) {
      keys.push(l.calleeKey, l.taskKey);
      ids.push(l.id);
    }
    try {
      await this.redis.tgRenew(keys.length, ...keys, this.leaseMs, ...ids);
      this.mark(true);
    } catch {
      this.mark(false);
    }
  }

  /** Slots held by calls in flight here. */
  heldCount(): number {
    return this.held.size;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.renewTimer);
    if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.conn.close();
  }
}
