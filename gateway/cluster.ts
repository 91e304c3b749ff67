/**
 * `tollgate serve --workers N`: N worker processes (node:cluster) sharing the three listeners, one core
 * each. Node 20 has no SO_REUSEPORT: the primary accepts and hands connections round-robin.
 *
 * A worker is a whole gateway (its own CA handle, SVID, proxy, delegation stage); what must be one truth
 * across them is shared the way a fleet of replicas shares it, so workers > 1 needs both fleet backends:
 * `store: postgres://...` (tokens, revocations, settings, delegation keys) and `redis:` (buckets,
 * concurrency, task budgets, the kill switch). Without them every worker would keep its own counters and a
 * limit would silently multiply by N: the primary refuses to start instead, naming what to configure.
 *
 * The primary forks, replaces a worker that dies (with a backoff when they keep dying), forwards SIGHUP
 * and SIGTERM/SIGINT to all, and answers the workers' /metrics with the whole group's metrics
 * (prom-client's AggregatorRegistry: counters summed, gauges aggregated as each declares).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from '../config/schema.js';

/**
 * Messages between the primary and its workers. A worker asks for the group's metrics ('metrics?'); the
 * primary asks each worker that said it is ready for its own ('own?'), aggregates, and answers ('metrics').
 * Not prom-client's clusterMetrics(): that asks every forked worker, and a replacement still starting (no
 * handler yet) made every scrape of the group wait 5 s and fail until it was up.
 */
type ToPrimary = { tg: 'ready'; banner: WorkerBanner } | { tg: 'metrics?'; id: number } | { tg: 'own'; id: number; json?: unknown; error?: string };
type ToWorker = { tg: 'metrics'; id: number; text?: string; error?: string } | { tg: 'own?'; id: number };

/** How long the primary waits for a ready worker's own metrics. */
const OWN_METRICS_TIMEOUT_MS = 5000;

export interface WorkerBanner {
  ports: { proxy: number; control: number; metrics: number };
  fingerprint: string;
  trustDomain: string;
}

/** `auto` = one per core. */
export function parseWorkers(raw: string | undefined, cores: number): number {
  if (raw === undefined) return 1;
  if (raw === 'auto') return Math.max(1, cores);
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 256)
    throw new Error(`--workers: expected a number from 1 to 256 or "auto", got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Why N workers cannot run on this config (undefined: they can). */
export function workersRefusal(n: number, config: Config): string | undefined {
  if (n <= 1) return undefined;
  const missing = [
    config.store === undefined ? 'store: postgres://... (or --store)' : undefined,
    config.redis === undefined ? 'redis: { url: redis://... }' : undefined,
  ].filter((x) => x !== undefined);
  if (missing.length === 0) return undefined;
  return `--workers ${n} needs the fleet backends, or each worker would keep its own rate limits, budgets and kill switch and every limit would multiply by ${n}: configure ${missing.join(' and ')}`;
}

export function isWorker(): boolean {
  return cluster.isWorker;
}

// ------------------------------------------------------------------ worker side

let nextRequest = 0;
const pending = new Map<number, { resolve(text: string): void; reject(e: Error): void }>();

/** In a worker: serve /metrics from the primary's aggregate of every worker's `registry`. */
export function workerMetrics(registry: Registry): () => Promise<string> {
  process.on('message', (m: ToWorker) => {
    if (m.tg === 'own?') {
      registry.getMetricsAsJSON().then(
        (json) => process.send?.({ tg: 'own', id: m.id, json } satisfies ToPrimary),
        (err: unknown) => process.send?.({ tg: 'own', id: m.id, error: (err as Error).message } satisfies ToPrimary),
      );
      return;
    }
    if (m.tg !== 'metrics') return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.text !== undefined) p.resolve(m.text);
    else p.reject(new Error(m.error ?? 'the primary did not answer'));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextRequest++;
      pending.set(id, { resolve, reject });
      process.send?.({ tg: 'metrics?', id } satisfies ToPrimary);
      setTimeout(() => {
        if (pending.delete(id)) reject(new Error('the primary did not answer the metrics request within 5 s'));
      }, 5000).unref();
    });
}

export function reportReady(banner: WorkerBanner): void {
  process.send?.({ tg: 'ready', banner } satisfies ToPrimary);
}

// ------------------------------------------------------------------ primary side

export interface PrimaryOptions {
  workers: number;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
  /** the first worker is serving: print the banner */
  onReady(banner: WorkerBanner): void;
}

export interface Primary {
  /** stop every worker (SIGTERM; SIGKILL for one still running after `graceMs`), resolve when all exited */
  stop(graceMs: number): Promise<void>;
  reload(): void;
  workerPids(): number[];
}

export function startPrimary(o: PrimaryOptions): Primary {
  let stopping = false;
  /** workers that reported ready: their metrics handler is in place */
  const ready = new Set<Worker>();
  let nextAsk = 0;
  const asked = new Map<number, { resolve(json: unknown): void; reject(e: Error): void }>();

  const ownMetrics = (w: Worker): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextAsk++;
      const timer = setTimeout(() => {
        if (asked.delete(id)) reject(new Error(`worker ${w.process.pid} did not send its metrics within ${OWN_METRICS_TIMEOUT_MS} ms`));
      }, OWN_METRICS_TIMEOUT_MS);
      timer.unref();
      const done = (fn: () => void) => {
        clearTimeout(timer);
        w.off('exit', gone);
        fn();
      };
      // a worker that dies meanwhile is left out (its counters died with it)
      const gone = () => {
        if (asked.delete(id)) done(() => resolve(undefined));
      };
      asked.set(id, { resolve: (json) => done(() => resolve(json)), reject: (e) => done(() => reject(e)) });
      w.once('exit', gone);
      if (w.isConnected()) w.send({ tg: 'own?', id } satisfies ToWorker);
      else gone();
    });

  /** the group's metrics: every ready worker's, aggregated as each metric declares */
  const groupMetrics = async (): Promise<string> => {
    const jsons = (await Promise.all([...ready].map(ownMetrics))).filter((j) => j !== undefined);
    return AggregatorRegistry.aggregate(jsons as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
  };
  let readyOnce = false;
  const recentDeaths: number[] = [];

  const fork = (): Worker => {
    const w = cluster.fork();
    w.on('message', (m: ToPrimary) => {
      if (m.tg === 'ready') {
        ready.add(w);
        o.log.info({ worker: w.process.pid, serving: ready.size, workers: o.workers }, 'worker serving');
        if (!readyOnce) {
          readyOnce = true;
          o.onReady(m.banner);
        }
      } else if (m.tg === 'own') {
        const p = asked.get(m.id);
        if (!p) return;
        asked.delete(m.id);
        if (m.error === undefined) p.resolve(m.json);
        else p.reject(new Error(m.error));
      } else if (m.tg === 'metrics?') {
        groupMetrics().then(
          (text) => w.send({ tg: 'metrics', id: m.id, text } satisfies ToWorker),
          (err: unknown) => w.send({ tg: 'metrics', id: m.id, error: (err as Error).message } satisfies ToWorker),
        );
      }
    });
    return w;
  };

  cluster.on('exit', (w, code, signal) => {
    ready.delete(w);
    if (stopping) return;
    const now = Date.now();
    recentDeaths.push(now);
    while (recentDeaths.length > 0 && recentDeaths[0] < now - 60_000) recentDeaths.shift();
    // a worker that keeps dying at start (bad config, port taken) must not spin the CPU: back off
    const delay = recentDeaths.length > 5 ? Math.min(30_000, 1000 * 2 ** (recentDeaths.length - 5)) : 0;
    o.log.error({ worker: w.process.pid, code, signal, restartInMs: delay }, 'worker died; starting a replacement');
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  });

  for (let i = 0; i < o.workers; i++) fork();

  const all = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  return {
    workerPids: () => all().map((w) => w.process.pid ?? 0),
    reload() {
      for (const w of all()) w.process.kill('SIGHUP');
    },
    stop(graceMs) {
      stopping = true;
      const workers = all();
      return Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.isDead()) {
                resolve();
                return;
              }
              const kill = setTimeout(() => w.process.kill('SIGKILL'), graceMs);
              w.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              w.process.kill('SIGTERM');
            }),
        ),
      ).then(() => undefined);
    },
  };
}
