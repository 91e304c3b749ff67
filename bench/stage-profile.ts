/**
 * Where the time goes, by stage of the request path: CPU microseconds per request from a V8 profile of the
 * gateway under the bench's load.
 *
 *   node dist/bench/stage-profile.js FILE.cpuprofile:REQUESTS [--markdown]
 *
 * Make the profile with `node dist/bench/gateway.js --cpu-prof DIR --cpu-prof-engine undici+delegation`
 * (the request count is in its output). Each sample is charged to the innermost stage entry on its stack
 * (the functions below, one or a few per stage as proxy/pipeline.ts lists them); samples under none of
 * them are Node's HTTP/TLS machinery and undici's I/O outside the stages, and the garbage collector is a row
 * of its own. The rows add up to the busy total.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** stage -> [function name, file suffix] entries; the first match on a stack from the leaf up wins */
export const STAGES: readonly (readonly [stage: string, fn: string, file: string])[] = [
  ['1. identity (per-request SVID expiry + revocation; per-connection validation)', 'decideIdentity', 'stages/identity.js'],
  ['1. identity (per-request SVID expiry + revocation; per-connection validation)', 'conn', 'proxy/pipeline.js'],
  ['2. route', 'decideRoute', 'stages/route.js'],
  ['3. body + method (JSON-RPC scan, REST path)', 'decideMethod', 'a2a/methods.js'],
  ['3. body + method (JSON-RPC scan, REST path)', 'bodyData', 'proxy/pipeline.js'],
  ['3. body + method (JSON-RPC scan, REST path)', 'bodyEnd', 'proxy/pipeline.js'],
  ['4. authorize', 'authorizeStage', 'stages/authorize.js'],
  ['5. limits', 'limitsStage', 'stages/limits.js'],
  ['5b. tasks (task ownership: lookup, response tap)', 'check', 'stages/tasks.js'],
  ['5b. tasks (task ownership: lookup, response tap)', 'data', 'stages/tasks.js'],
  ['5b. tasks (task ownership: lookup, response tap)', 'end', 'stages/tasks.js'],
  ['6. governance (delegation context, loops, budgets, call graph)', 'governanceStage', 'stages/governance.js'],
  ['6. governance (delegation context, loops, budgets, call graph)', 'onResponse', 'delegation/stage.js'],
  ['6. governance (delegation context, loops, budgets, call graph)', 'onComplete', 'delegation/stage.js'],
  ['6. governance (delegation context, loops, budgets, call graph)', 'onRefused', 'delegation/stage.js'],
  ['7. forward: request headers + dispatch (incl. undici writing the request)', 'upstreamRequestHeaders', 'proxy/headers.js'],
  ['7. forward: request headers + dispatch (incl. undici writing the request)', 'forward', 'proxy/pipeline.js'],
  ['7. forward: response headers to the caller', 'upstreamResponded', 'stages/forward.js'],
  ['8. record (metrics + audit line)', 'finish', 'proxy/pipeline.js'],
  // the audit lines of a turn are built, chained and gathered at its end (proxy/audit.ts drain)
  ['8. record (metrics + audit line)', 'drain', 'proxy/audit.js'],
  ['the exchange (created per request)', 'Exchange', 'proxy/exchange.js'],
  // functions V8 inlines (authorize, limits, route checks) are charged to the pipeline step they run in
  ['pipeline steps between stages (incl. inlined authorize/limits)', 'afterBody', 'proxy/pipeline.js'],
  ['pipeline steps between stages (incl. inlined authorize/limits)', 'handle', 'proxy/pipeline.js'],
];

const OUTSIDE = "Node's HTTP/TLS server and undici's upstream I/O (outside the stages)";
const GC = 'garbage collector';
const STARTUP = /module_job|cjs\/loader|esm\/loader|esm\/translators/;

export function stageProfile(file: string, requests: number): { rows: [string, number][]; total: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, string | null>();
  const classify = (n: ProfileNode): string | null => {
    let s = stageOf.get(n.id);
    if (s === undefined) {
      const f = n.callFrame;
      s = STAGES.find(([, fn, suffix]) => f.functionName === fn && f.url.endsWith(suffix))?.[0] ?? null;
      stageOf.set(n.id, s);
    }
    return s;
  };
  const out = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const leaf = byId.get(p.samples[i]);
    if (!leaf || leaf.callFrame.functionName === '(idle)') continue;
    let stage: string | null = null;
    let startup = false;
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (STARTUP.test(n.callFrame.url)) startup = true;
      stage ??= classify(n);
    }
    if (startup) continue;
    const name = leaf.callFrame.functionName === '(garbage collector)' ? GC : (stage ?? OUTSIDE);
    const us = (p.timeDeltas[i] ?? 0) / requests;
    out.set(name, (out.get(name) ?? 0) + us);
    total += us;
  }
  const order = [...new Set(STAGES.map(([s]) => s)), OUTSIDE, GC];
  return { rows: order.filter((s) => out.has(s)).map((s) => [s, out.get(s)!]), total };
}

function main(): void {
  const arg = process.argv.slice(2).find((a) => !a.startsWith('--'));
  const i = arg?.lastIndexOf(':') ?? -1;
  const requests = Number(arg?.slice(i + 1));
  if (arg === undefined || i < 0 || !Number.isFinite(requests) || requests <= 0) {
    console.error('usage: node dist/bench/stage-profile.js FILE.cpuprofile:REQUESTS [--markdown]');
    process.exit(2);
  }
  const { rows, total } = stageProfile(arg.slice(0, i), requests);
  if (process.argv.includes('--markdown')) {
    console.log('| stage | CPU µs per request | share |\n|---|---|---|');
    for (const [s, us] of rows) console.log(`| ${s} | ${us.toFixed(1)} | ${((100 * us) / total).toFixed(0)}% |`);
    console.log(`| **total (busy)** | **${total.toFixed(1)}** | 100% |`);
    return;
  }
  for (const [s, us] of rows) console.log(`${s.padEnd(78)} ${us.toFixed(2).padStart(7)} us  ${((100 * us) / total).toFixed(0).padStart(3)}%`);
  console.log(`${'total (busy)'.padEnd(78)} ${total.toFixed(2).padStart(7)} us`);
}

if (process.argv[1]?.endsWith('stage-profile.js')) main();
