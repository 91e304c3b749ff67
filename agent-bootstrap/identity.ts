/**
 * A running agent identity: the current key, chain and bundle, renewed at half-life (with jitter) for as
 * long as the agent runs. Consumers (mTLS fetch, agent server) listen to 'rotated' and swap their TLS
 * material; nothing they hold is mutated in place.
 *
 * Events:
 *  - 'rotated' (next: SvidMaterial, previous: SvidMaterial) after a successful renewal (files already written)
 *  - 'error' (err: BootstrapError) when a renewal attempt fails; emitted only if someone listens, so an
 *    unhandled failure never crashes the agent; the identity keeps retrying with exponential backoff.
 */
import { EventEmitter } from 'node:events';
import { BootstrapError } from './errors.js';
import { bundleDerOf, type SvidMaterial } from './material.js';
import { readIdentityFiles, writeIdentityFiles } from './files.js';
import { renew } from './bootstrap.js';
import { MAX_TIMER_MS, renewalDelay, retryDelay, type RetryPolicy } from '../certs/rotation.js';

export interface AgentIdentityOptions {
  /** control listener HOST:PORT; needed to renew */
  server?: string;
  /** write every renewed identity there (atomically) */
  dir?: string;
  now?: () => number;
  random?: () => number;
  /** renew after this fraction of the certificate's usable lifetime (default 0.5) */
  renewAt?: number;
  /** renewal jitter, as a fraction of the lifetime (default 0.1: renew between 40 % and 50 %) */
  jitter?: number;
  /** when `material` was received (default: now, at construction); fromDir uses the certificate's notBefore */
  obtainedAt?: number;
  retry?: RetryPolicy;
  /** per renewal call, ms */
  deadlineMs?: number;
  /** keep the process alive while waiting to renew (default false: the agent's own servers do that) */
  ref?: boolean;
  /** replace the network renewal (tests, custom transports) */
  renewFn?: (current: SvidMaterial) => Promise<SvidMaterial>;
}

export class AgentIdentity extends EventEmitter {
  private current: SvidMaterial;
  private obtainedAt: number;
  private bundle: Buffer[];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private inFlight: Promise<SvidMaterial> | null = null;
  private failures = 0;
  private dueAt = 0;
  private clamped = false;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(
    material: SvidMaterial,
    private readonly opts: AgentIdentityOptions = {},
  ) {
    super();
    this.current = material;
    this.bundle = bundleDerOf(material);
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.obtainedAt = opts.obtainedAt ?? this.now();
  }

  /** Load key.pem / cert.pem / bundle.pem written by `bootstrap` or `tollgate bootstrap --out`. */
  static async fromDir(dir: string, opts: Omit<AgentIdentityOptions, 'dir'> & { persist?: boolean } = {}): Promise<AgentIdentity> {
    const material = await readIdentityFiles(dir);
    // We do not know when these files were written: plan from notBefore (renews early, never late).
    return new AgentIdentity(material, { obtainedAt: material.notBefore, ...opts, dir: opts.persist === false ? undefined : dir });
  }

  /** the control listener HOST:PORT this identity renews against, if any */
  get server(): string | undefined {
    return this.opts.server;
  }

  get material(): SvidMaterial {
    return this.current;
  }
  get keyPem(): string {
    return this.current.keyPem;
  }
  get certChainPem(): string {
    return this.current.certChainPem;
  }
  get bundlePem(): string {
    return this.current.bundlePem;
  }
  get spiffeId(): string {
    return this.current.spiffeId;
  }
  get trustDomain(): string {
    return this.current.trustDomain;
  }
  get serial(): string {
    return this.current.serial;
  }
  get notBefore(): number {
    return this.current.notBefore;
  }
  get notAfter(): number {
    return this.current.notAfter;
  }
  /** DER roots of the trust bundle (parsed once per rotation) */
  bundleDer(): Buffer[] {
    return this.bundle;
  }

  /** Keep renewing until stop(). Idempotent. */
  start(): this {
    if (!this.running) {
      if (!this.opts.server && !this.opts.renewFn)
        throw new BootstrapError('invalid_argument', 'AgentIdentity.start() needs the `server` option (the control listener HOST:PORT)');
      this.running = true;
      this.schedule(this.plannedDelay(false));
    }
    return this;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Renew now (concurrent callers share one renewal). Rejects on failure; the schedule is unaffected. */
  renewNow(): Promise<SvidMaterial> {
    if (!this.inFlight) {
      this.inFlight = this.doRenew().finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  private async doRenew(): Promise<SvidMaterial> {
    const previous = this.current;
    let next: SvidMaterial;
    if (this.opts.renewFn) next = await this.opts.renewFn(previous);
    else if (this.opts.server) next = await renew(this.opts.server, previous, { deadlineMs: this.opts.deadlineMs });
    else throw new BootstrapError('invalid_argument', 'cannot renew: no `server` option (the control listener HOST:PORT)');
    // Files first: if they cannot be written we keep the old identity everywhere, consistently.
    if (this.opts.dir) await writeIdentityFiles(this.opts.dir, next);
    this.current = next;
    this.obtainedAt = this.now();
    this.bundle = bundleDerOf(next);
    this.failures = 0;
    // Plan from the new certificate, whoever asked for this renewal (timer or renewNow()).
    if (this.running) this.schedule(this.plannedDelay(true));
    this.emit('rotated', next, previous);
    return next;
  }

  /** When the current certificate is due for renewal, from now. */
  private plannedDelay(afterSuccess: boolean): number {
    const plan = { notBefore: this.current.notBefore, notAfter: this.current.notAfter, obtainedAt: this.obtainedAt };
    return renewalDelay(plan, this.now(), this.random, { renewAt: this.opts.renewAt, jitter: this.opts.jitter }, afterSuccess);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.dueAt = this.now() + delayMs;
    this.clamped = delayMs > MAX_TIMER_MS;
    this.timer = setTimeout(() => this.tick(), Math.min(delayMs, MAX_TIMER_MS));
    if (!this.opts.ref) this.timer.unref();
  }

  private tick(): void {
    this.timer = null;
    // A timer longer than MAX_TIMER_MS was clamped: sleep again until the planned moment.
    if (this.clamped) {
      this.schedule(Math.max(0, this.dueAt - this.now()));
      return;
    }
    this.renewNow().then(
      () => undefined, // doRenew already planned the next renewal
      (err: unknown) => {
        this.failures++;
        const e = err instanceof BootstrapError ? err : new BootstrapError('unavailable', `renewal failed: ${(err as Error).message}`, { cause: err });
        if (this.listenerCount('error') > 0) this.emit('error', e);
        this.schedule(retryDelay(this.failures, this.opts.retry, this.random));
      },
    );
  }
}
