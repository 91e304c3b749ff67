/**
 * What the fleet graph stream costs per call in the processes, without Redis (process.cpuUsage, best of
 * rounds, GC included): the bench load of `bench/workers.ts`, a new root task per call, through a real
 * delegation stage whose feed is packed for the stream, and the packed batches applied to another stage's
 * graph (what every other process of the fleet does with each call).
 *  - publishUs: packing one call's events and sending the batch as text (GraphBatch.add + take)
 *  - applyUs: applying one call of another process's batch (applyGraphBatch: trees and aggregate)
 *  - jsonPublishUs / jsonApplyUs: the same with the earlier format, a JSON array of feed events per batch
 *    (JSON.stringify; JSON.parse + applyGraphEvent), for comparison
 * The Redis side (one XADD per batch, one XREAD per wake-up in each process) is not in these figures: the
 * batches are sent every ~100 ms (gateway/graph-stream.ts), so it is a few per second, not per call.
 *
 *   node dist/bench/graph-stream.js [--calls 20000] [--batch 256] [--rounds 5]
 *
 * --fleet: the whole stream between two processes (bench/lib/graph-stream-child.ts: a stage each, a new
 * root call per call at a fixed rate, on cores 0 and 1, a private redis-server on core 1), each process's
 * CPU per call with the stream and without it, alternately; the difference is what the stream costs a
 * process per call of its own (publishing it, and applying the other's, as many). A fixed rate, not a
 * saturating load: batches then hold what they would at that rate, and the figure does not move with
 * throughput. --baseline DIR measures another build's gateway/graph-stream.js too (DIR = its dist/).
 *
 *   node dist/bench/graph-stream.js --fleet [--rate 3000] [--seconds 6] [--cycles 3] [--baseline DIR]
 */
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, pinned, stop, waitForPort } from './lib/procs.js';
import { parseConfig } from '../config/load.js';
import { KeyRing } from '../governance/delegation/keys.js';
import { aliceCallsEcho } from './lib/governed-call.js';
import { createDelegationStage, type GovernedCall } from '../governance/delegation/stage.js';
import { applyGraphBatch, applyGraphEvent, GraphBatch, type GraphEvent } from '../governance/graph/index.js';

const TD = 'spiffe://workers.bench';

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export interface GraphStreamBenchResult {
  publishUs: number;
  applyUs: number;
  jsonPublishUs: number;
  jsonApplyUs: number;
  /** bytes per call on the stream */
  bytesPerCall: number;
  jsonBytesPerCall: number;
}

export function runGraphStreamBench(o: { calls?: number; batch?: number; rounds?: number } = {}): GraphStreamBenchResult {
  const calls = o.calls ?? 20_000;
  const perBatch = o.batch ?? 256;
  const rounds = o.rounds ?? 5;
  const config = parseConfig({
    agents: { echo: { url: 'https://127.0.0.1:9000', id: `${TD}/agent/echo` } },
    delegation: { task: { maxCalls: 1e12, maxFanOut: 1e12, maxConcurrent: 1e6 } },
  });
  let now = Date.now();
  const clock = () => now;
  const keyring = new KeyRing({ now: clock, retentionMs: config.delegation.tokenTtl });
  const mkCtx = (): GovernedCall => aliceCallsEcho(TD);

  /** `calls` root calls through a stage feeding `feed`, every `perBatch` calls `cut()` */
  const drive = (feed: ((e: GraphEvent) => void) | undefined, cut: () => void) => {
    const stage = createDelegationStage({ config, keyring, now: clock, feed });
    return () => {
      for (let i = 0; i < calls; i++) {
        now++;
        const ctx = mkCtx();
        if (stage.beforeForward(ctx)) throw new Error('refused');
        stage.onResponse(ctx);
        stage.onComplete(ctx);
        if ((i + 1) % perBatch === 0) cut();
      }
      cut();
    };
  };
  const best = (fn: () => void) => {
    fn(); // warm-up
    let b = Infinity;
    for (let r = 0; r < rounds; r++) {
      const t0 = cpuUs();
      fn();
      b = Math.min(b, (cpuUs() - t0) / calls);
    }
    return b;
  };

  // the stage alone, then with each feed: the difference is the publishing
  const stageUs = best(drive(undefined, () => undefined));
  const batch = new GraphBatch();
  let packed: string[] = [];
  const publishUs =
    best(
      drive(
        (e) => batch.add(e),
        () => packed.push(batch.take()),
      ),
    ) - stageUs;
  let events: GraphEvent[] = [];
  let json: string[] = [];
  const jsonPublishUs =
    best(
      drive(
        (e) => events.push(e),
        () => {
          json.push(JSON.stringify(events));
          events = [];
        },
      ),
    ) - stageUs;
  // keep one round's batches to apply
  packed = [];
  json = [];
  drive(
    (e) => batch.add(e),
    () => packed.push(batch.take()),
  )();
  drive(
    (e) => events.push(e),
    () => {
      json.push(JSON.stringify(events));
      events = [];
    },
  )();
  const reader = () => createDelegationStage({ config, keyring, now: clock }).graph;
  const applyUs = best(() => {
    const g = reader();
    for (const p of packed) applyGraphBatch(g, p);
  });
  const jsonApplyUs = best(() => {
    const g = reader();
    for (const p of json) for (const e of JSON.parse(p) as GraphEvent[]) applyGraphEvent(g, e);
  });
  const bytes = (xs: string[]) => xs.reduce((n, x) => n + Buffer.byteLength(x), 0) / calls;
  return {
    publishUs: r2(publishUs),
    applyUs: r2(applyUs),
    jsonPublishUs: r2(jsonPublishUs),
    jsonApplyUs: r2(jsonApplyUs),
    bytesPerCall: Math.round(bytes(packed)),
    jsonBytesPerCall: Math.round(bytes(json)),
  };
}

const here = dirname(fileURLToPath(import.meta.url));

export interface FleetStreamResult {
  /** per variant (off, this build, the baseline build): median over cycles of the two processes' mean CPU per call */
  cpuUsPerCall: Record<string, number>;
  /** the same minus `off`: what the stream costs per call in each process */
  streamUsPerCall: Record<string, number>;
}

export async function runGraphStreamFleet(
  o: { rate?: number; seconds?: number; cycles?: number; baseline?: string; log?: (l: string) => void } = {},
): Promise<FleetStreamResult> {
  const rate = o.rate ?? 3000;
  const seconds = o.seconds ?? 6;
  const cycles = o.cycles ?? 3;
  const log = o.log ?? (() => undefined);
  const variants: [string, string][] = [
    ['off', 'off'],
    ['this build', pathToFileURL(join(here, '..', 'gateway', 'graph-stream.js')).href],
  ];
  if (o.baseline) variants.push(['baseline', pathToFileURL(join(resolve(o.baseline), 'gateway', 'graph-stream.js')).href]);
  const runs = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let c = 0; c < cycles; c++) {
    for (const [name, module] of variants) {
      const port = await freePort();
      const redis = pinned(1, ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
      try {
        await waitForPort(port);
        const outs = await Promise.all(
          [0, 1].map((core) => {
            const p = pinned(core, [process.execPath, join(here, 'lib', 'graph-stream-child.js'), module, String(port), String(rate), String(seconds)]);
            let out = '';
            p.stdout!.on('data', (b: Buffer) => (out += b.toString()));
            return new Promise<{ cpuUsPerCall: number; calls: number; applied: number }>((ok, fail) =>
              p.once('close', (code) =>
                code === 0 ? ok(JSON.parse(out) as { cpuUsPerCall: number; calls: number; applied: number }) : fail(new Error(`child exited with ${code}`)),
              ),
            );
          }),
        );
        const xs = execFileSync('redis-cli', ['-p', String(port), 'info', 'commandstats'], { encoding: 'utf8' }).match(/cmdstat_x(add|read):calls=\d+/g);
        const mean = (outs[0].cpuUsPerCall + outs[1].cpuUsPerCall) / 2;
        runs.get(name)!.push(mean);
        log(
          `cycle ${c + 1}/${cycles} ${name}: ${outs.map((r) => `${r.cpuUsPerCall.toFixed(1)} us/call (applied ${r.applied})`).join(', ')}${xs ? `; ${xs.join(' ')}` : ''}`,
        );
      } finally {
        await stop(redis);
      }
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cpuUsPerCall = Object.fromEntries([...runs].map(([k, v]) => [k, r2(med(v))]));
  // paired by cycle: each cycle's variants ran a few seconds apart
  const off = runs.get('off')!;
  const streamUsPerCall = Object.fromEntries([...runs].filter(([k]) => k !== 'off').map(([k, v]) => [k, r2(med(v.map((x, i) => x - off[i])))]));
  return { cpuUsPerCall, streamUsPerCall };
}

function r2(x: number): number {
  return Math.round(x * 100) / 100;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (n: string) => {
    const i = process.argv.indexOf(`--${n}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  if (process.argv.includes('--fleet')) {
    const b = process.argv.indexOf('--baseline');
    const r = await runGraphStreamFleet({
      rate: arg('rate'),
      seconds: arg('seconds'),
      cycles: arg('cycles'),
      baseline: b > 0 ? process.argv[b + 1] : undefined,
      log: (l) => console.error(l),
    });
    console.log(JSON.stringify(r));
  } else {
    console.log(JSON.stringify(runGraphStreamBench({ calls: arg('calls'), batch: arg('batch'), rounds: arg('rounds') })));
  }
}
