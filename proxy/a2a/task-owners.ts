/**
 * Who created which task: the store behind task ownership (stages/tasks.ts). A task is keyed by the callee
 * agent's name and the task id the agent gave it (two agents may use the same id); the value is the SPIFFE ID
 * of the caller whose call created it. The first record wins: a later response naming the same task never
 * hands it to someone else.
 *
 * Implementations: LruTaskOwners here (one process: bounded, entries expire), RedisTaskOwners in
 * governance/fleet/task-owners.ts (config `redis:`: every replica reads the same records), and
 * TieredTaskOwners, which puts the process's own records in front of the shared ones so a caller's next call
 * on the same replica never waits for the shared write. test/contracts/task-owners.ts runs the same contract
 * against each.
 */
export interface TaskOwners {
  /**
   * Note `owner` as the creator of `taskId` at agent `callee`, unless the task already has an owner.
   * Resolves to the task's owner after the call: `owner`, or the one recorded first.
   */
  recordOwner(callee: string, taskId: string, owner: string): Promise<string>;
  /** The recorded creator, or undefined when there is no (unexpired) record. */
  ownerOf(callee: string, taskId: string): Promise<string | undefined>;
  /** ownerOf for several tasks of one agent (a ListTasks page), in order. */
  ownersOf(callee: string, taskIds: readonly string[]): Promise<(string | undefined)[]>;
}

interface Entry {
  owner: string;
  expiresAt: number;
}

/**
 * In one process: at most `maxEntries` records (the oldest go first), each kept `ttlMs` from when it was
 * recorded. Memory is bounded by maxEntries x (key + one shared owner string). Writes are synchronous (the
 * promise is already settled), so a record is visible to the next call the moment it is made.
 */
export class LruTaskOwners implements TaskOwners {
  private readonly map = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.map.size;
  }

  recordOwner(callee: string, taskId: string, owner: string): Promise<string> {
    return Promise.resolve(this.record(callee, taskId, owner));
  }

  /** the synchronous write (TieredTaskOwners uses it); returns the task's owner after it */
  record(callee: string, taskId: string, owner: string): string {
    const key = keyOf(callee, taskId);
    const first = this.lookup(key);
    if (first !== undefined) return first;
    this.set(key, owner);
    return owner;
  }

  /** Make `owner` the record, whatever was there (TieredTaskOwners: the shared store named another winner). */
  replace(callee: string, taskId: string, owner: string): void {
    const key = keyOf(callee, taskId);
    this.map.delete(key);
    this.set(key, owner);
  }

  private set(key: string, owner: string): void {
    this.map.set(key, { owner, expiresAt: this.now() + this.ttlMs });
    // records never move (ownership does not change), so insertion order is age order: drop the oldest
    while (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value!);
  }

  ownerOf(callee: string, taskId: string): Promise<string | undefined> {
    return Promise.resolve(this.lookup(keyOf(callee, taskId)));
  }

  /** the synchronous read */
  owner(callee: string, taskId: string): string | undefined {
    return this.lookup(keyOf(callee, taskId));
  }

  ownersOf(callee: string, taskIds: readonly string[]): Promise<(string | undefined)[]> {
    return Promise.resolve(taskIds.map((id) => this.lookup(keyOf(callee, id))));
  }

  private lookup(key: string): string | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e.owner;
  }
}

/** Agent names cannot contain a newline (config keys are checked), so the key is unambiguous. */
function keyOf(callee: string, taskId: string): string {
  return `${callee}\n${taskId}`;
}

/**
 * This process's records in front of the shared store: a record is written to both (the local one at once,
 * corrected if the shared store already named another owner), a lookup asks the local one first. A caller's next call on the same replica is therefore never refused
 * for a shared write still under way; on another replica it sees the record once the write has landed
 * (one Redis round trip after the response passed).
 */
export class TieredTaskOwners implements TaskOwners {
  constructor(
    private readonly local: LruTaskOwners,
    private readonly shared: TaskOwners,
  ) {}

  async recordOwner(callee: string, taskId: string, owner: string): Promise<string> {
    this.local.record(callee, taskId, owner);
    const winner = await this.shared.recordOwner(callee, taskId, owner);
    // another replica recorded the task first (its agent named one task to two callers): its record stands
    if (winner !== owner) this.local.replace(callee, taskId, winner);
    return winner;
  }

  ownerOf(callee: string, taskId: string): Promise<string | undefined> {
    const o = this.local.owner(callee, taskId);
    return o !== undefined ? Promise.resolve(o) : this.shared.ownerOf(callee, taskId);
  }

  async ownersOf(callee: string, taskIds: readonly string[]): Promise<(string | undefined)[]> {
    const out = taskIds.map((id) => this.local.owner(callee, id));
    const missing: number[] = [];
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) missing.push(i);
    if (missing.length === 0) return out;
    const shared = await this.shared.ownersOf(
      callee,
      missing.map((i) => taskIds[i]),
    );
    for (let k = 0; k < missing.length; k++) out[missing[k]] = shared[k];
    return out;
  }
}
