import './exit-with-parent.js';
/**
 * One process of bench/graph-stream.ts --fleet: a delegation stage driven at a fixed rate of new root calls
 * (each ends ~1 ms later, on the next timer tick, as a forwarded call would), its graph events on the fleet
 * stream of a Redis at `port` (or no stream: `stream` = off). Prints {"cpuUsPerCall", "calls", "applied"}:
 * its own CPU per call over the run after a 1 s warm-up.
 *
 *   node graph-stream-child.js <graph-stream.js to load | off> <redis port> <calls/s> <seconds>
 *
 * The stream module is a path so another build's (the one before a change) can be measured the same way.
 */
import { parseConfig } from '../../config/load.js';
import { KeyRing } from '../../governance/delegation/keys.js';
import { aliceCallsEcho } from './governed-call.js';
import { createDelegationStage, type GovernedCall } from '../../governance/delegation/stage.js';
import type { GraphEvent } from '../../governance/graph/index.js';
import type { GraphStream, GraphStreamOptions } from '../../gateway/graph-stream.js';

const [streamModule, port, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const TD = 'spiffe://workers.bench';
const config = parseConfig({
  agents: { echo: { url: 'https://127.0.0.1:9000', id: `${TD}/agent/echo` } },
  delegation: { task: { maxCalls: 1e12, maxFanOut: 1e12, maxConcurrent: 1e6 } },
});
const keyring = new KeyRing({ now: Date.now, retentionMs: config.delegation.tokenTtl });
let publish: (e: GraphEvent) => void = () => undefined;
const stage = createDelegationStage({ config, keyring, now: Date.now, feed: streamModule === 'off' ? undefined : (e) => publish(e) });
let stream: GraphStream | undefined;
let close = () => undefined as unknown;
if (streamModule !== 'off') {
  const { Redis } = await import('ioredis');
  const redis = new Redis({ port: Number(port) });
  const { startGraphStream } = (await import(streamModule)) as { startGraphStream: (o: GraphStreamOptions) => GraphStream };
  const log = { info() {}, warn: (_o: object, m: string) => console.error(m), error() {} };
  const s = startGraphStream({ redis, prefix: 'bench:', graph: stage.graph, windowMs: 300_000, log });
  stream = s;
  publish = (e) => s.publish(e);
  close = async () => {
    await s.close();
    redis.disconnect();
  };
}

const ctx = (): GovernedCall => aliceCallsEcho(TD);
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

await new Promise((r) => setTimeout(r, 300)); // connected, the peers started
const t0 = performance.now();
let started = 0;
let open: GovernedCall[] = [];
let c0 = 0;
let from = -1;
await new Promise<void>((resolve) => {
  const tick = () => {
    const now = performance.now();
    for (const c of open) {
      stage.onResponse(c);
      stage.onComplete(c);
    }
    open = [];
    if (from < 0 && now - t0 > 1000) {
      c0 = cpu();
      from = started;
    }
    if (now - t0 >= seconds * 1000) {
      resolve();
      return;
    }
    const due = Math.floor(((now - t0) / 1000) * rate) - started;
    for (let i = 0; i < due; i++) {
      const c = ctx();
      if (stage.beforeForward(c)) throw new Error('refused');
      open.push(c);
      started++;
    }
    setTimeout(tick, 1);
  };
  tick();
});
const used = cpu() - c0;
process.stdout.write(JSON.stringify({ cpuUsPerCall: used / (started - from), calls: started - from, applied: stream?.applied() ?? 0 }) + '\n');
await close();
