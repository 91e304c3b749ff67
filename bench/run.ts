/**
 * `npm run bench`: every benchmark in one invocation, on this machine, with ratios against baselines
 * measured in the same run (the machine is shared and noisy: compare ratios and CPU per operation, not
 * lone wall-clock numbers). Method: ../shared/reference/performance.md and README "Performance".
 *   1. SVID issuance throughput (CSR verify + sign + store) on one core
 *   2. delegation context verify + re-sign, and the whole delegation stage, CPU per call
 *   3. the gateway: CPU per governed call pinned to one core, vs the upstream direct, a bare undici proxy,
 *      http-proxy-3 and nginx (when installed); added latency at a fixed 350 req/s
 *   4. memory: idle RSS of `tollgate serve` against the floor of its dependencies, and RSS per 1,000 open
 *      idle mTLS connections to the proxy (~40 s: both processes idle long enough for V8 to shrink)
 *   6. the durable store, SQLite beside PostgreSQL: issuance through each, and how long a revocation made
 *      through one process (replica) takes to be enforced by another
 *   7. `serve --workers 2` against `--workers 1` (each with PostgreSQL and a private Redis): CPU per call over
 *      the process group, req/s, read against the bare proxy run as 1 process and as a cluster of 2 in the
 *      same rounds (a 2-core machine shares its second core with the load generator)
 * Flags: --quick (shorter runs), --json (machine-readable summary on stdout).
 */
import { execFileSync } from 'node:child_process';
import { runIssuanceBench } from './issuance.js';
import { runDelegationBench } from './delegation.js';
import { runGatewayBench } from './gateway.js';
import { runSvidBench } from './svid.js';
import { runMemoryBench } from './memory.js';
import { runStoreBench } from './store.js';
import { runWorkersBench, type WorkersBenchResult } from './workers.js';

const quick = process.argv.includes('--quick');
const log = (l: string) => console.error(l);

function pinSelf(core: number): void {
  try {
    execFileSync('taskset', ['-cp', String(core), String(process.pid)], { stdio: 'ignore' });
  } catch {
    log('warning: taskset failed; issuance and delegation benches run unpinned');
  }
}

log(
  `machine: ${(await import('node:os')).cpus().length} cores, load average ${(await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}, node ${process.version}`,
);
pinSelf(0);
log('1/7 SVID issuance (bootstrap path: token + CSR verify + sign + store), pinned to core 0');
const issuance = await runIssuanceBench({ seconds: quick ? 2 : 5 });
log('2/7 delegation context (verify + re-sign, 4-hop chain) and the delegation stage');
const delegation = await runDelegationBench(quick ? { n: 5000, rounds: 3 } : {});
log('3/7 peer SVID validation (validateSvid, leaf + intermediate, prebuilt bundle), pinned to core 0');
const svid = await runSvidBench({ n: quick ? 1000 : 3000 });
log('4/7 gateway (this takes a minute)');
const gateway = await runGatewayBench({ durationSec: quick ? 2 : 3, rounds: quick ? 2 : 6, log });
log('5/7 memory: idle `tollgate serve` vs its dependency floor, and per 1,000 idle mTLS connections');
const memory = await runMemoryBench({ connections: quick ? 300 : 1000, log });

log('6/7 the store: SQLite beside PostgreSQL (issuance, revocation propagation between replicas)');
const store = await runStoreBench({ seconds: quick ? 1 : 3, samples: quick ? 6 : 20 });

log('7/7 serve --workers 2 vs --workers 1 (PostgreSQL + Redis)');
let workers: WorkersBenchResult | { skipped: string };
try {
  workers = await runWorkersBench({ rounds: quick ? 2 : 4, duration: quick ? 2 : 3, log });
} catch (e) {
  workers = { skipped: (e as Error).message };
}

const summary = { issuance, delegation, svid, gateway, memory, store, workers };
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(summary, null, 2));
} else {
  const f = (n: number | undefined, d = 1) => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(d));
  console.log('\n== Tollgate benchmarks (CPU per operation; ratios are against baselines from this same run) ==');
  console.log(`SVID issuance:     ${Math.round(issuance.certsPerSecond)} certs/s on one core, ${f(issuance.cpuUsPerCert)} us CPU/cert (target >= 2000/s)`);
  console.log(
    `delegation:        verify + re-sign ${f(delegation.verifyAndSignUs)} us (a context this gateway issued: ${f(delegation.issuedVerifyAndSignUs)} us), whole stage ${f(delegation.decideUs)} us CPU/call (target <= 10 us for verify + re-sign); one HMAC ${f(delegation.macUs, 2)} us (createHmac ${f(delegation.hmacUs, 2)} us)`,
  );
  console.log(
    `SVID validation:   ${f(svid.usPerValidation)} us CPU per validateSvid (bare signature checks ${f(svid.cryptoFloorUs)} us); importing certs/svid.js adds ${f(svid.importRssMb)} MB RSS, ${svid.importModules} modules`,
  );
  console.log('gateway targets:   CPU us/req   req/s    p50 us   p99 us');
  for (const t of gateway.targets) {
    console.log(
      `  ${t.name.padEnd(30)} ${f(t.cpuUsPerReq).padStart(8)} ${String(Math.round(t.reqPerSec)).padStart(7)} ${String(Math.round(t.latencyP50Us ?? NaN)).padStart(8)} ${String(Math.round(t.latencyP99Us ?? NaN)).padStart(8)}`,
    );
  }
  console.log(`gateway governed call: ${f(gateway.gatewayCpuUsPerReq)} us CPU (lowest round); with delegation ${f(gateway.fullCpuUsPerReq)} us`);
  console.log(`ratios: gateway / bare undici proxy ${f(gateway.vsBare, 2)}x, gateway / nginx ${f(gateway.vsNginx, 2)}x`);
  console.log(
    `paired by round (median): gateway / bare ${f(gateway.pairedVsBare, 2)}x (= ${f(gateway.referenceScaledUs, 0)} us at the reference bare proxy's 142 us), gateway / nginx ${f(gateway.pairedVsNginx, 2)}x, delegation stage +${f(gateway.pairedDelegationUs)} us, gateway with delegation / bare ${f(gateway.pairedDelegationVsBare, 2)}x; bar <= 170 us (judged reference-scaled): ${gateway.meetsBar ? 'met' : 'MISSED'}`,
  );
  console.log(
    `memory:            idle tollgate serve ${f(memory.idleRssMb)} MB RSS = dependency floor ${f(memory.floorRssMb)} MB + ${f(memory.aboveFloorMb)} MB (goal <= 10 MB above); +${f(memory.rssPerThousandConnectionsMb)} MB RSS per 1,000 idle mTLS connections`,
  );
  for (const [name, h] of [
    ['SQLite', store.sqlite],
    ['PostgreSQL', store.postgres],
  ] as const) {
    if (!h) continue;
    console.log(
      `store ${name.padEnd(11)} issuance ${h.issuance.certsPerSecond} certs/s (${f(h.issuance.cpuUsPerCert)} us CPU/cert in the gateway process); revocation enforced by another replica after p50 ${f(h.propagation.p50Ms, 0)} ms, p95 ${f(h.propagation.p95Ms, 0)} ms (${name === 'SQLite' ? 'poll 500 ms' : 'announced by the database, poll 500 ms behind it'})`,
    );
  }
  if (store.postgresSkipped) console.log(`store PostgreSQL: skipped (${store.postgresSkipped})`);
  if ('one' in workers) {
    console.log(
      `workers:           --workers 1 ${f(workers.one.cpuUsPerReq)} us CPU/call, ${Math.round(workers.one.reqPerSec)} req/s; --workers 2 ${f(workers.two.cpuUsPerReq)} us, ${Math.round(workers.two.reqPerSec)} req/s; paired 2/1 ${f(workers.pairedCpuRatio, 2)}x, the bare proxy's 2/1 ${f(workers.bare.pairedCpuRatio, 2)}x, Tollgate's over the bare proxy's ${f(workers.overBare.twoCores, 2)}x (goal within 10%; ${(await import('node:os')).cpus().length} cores here); 2 workers on the 1-worker fleet's core: ${f(workers.twoOnOneCore.cpuUsPerReq)} us, paired 2/1 ${f(workers.pairedOneCoreRatio, 2)}x, over the bare proxy's ${f(workers.overBare.oneCore, 2)}x`,
    );
  } else {
    console.log(`workers:           skipped (${workers.skipped})`);
  }
  console.log(
    `added latency at 350 req/s over direct: p50 ${Math.round(gateway.addedLatencyP50Us ?? NaN)} us, p99 ${Math.round(gateway.addedLatencyP99Us ?? NaN)} us`,
  );
}
