/**
 * Where does the time go: compare two V8 CPU profiles per request.
 *
 *   node dist/bench/profile-diff.js A.cpuprofile:REQUESTS B.cpuprofile:REQUESTS [--inclusive] [--top 40]
 *
 * Each profile's busy samples (idle and module loading left out) are divided by the requests its process
 * served, so the columns are microseconds per request and the last one is what B spends more than A. Make
 * the profiles with `node dist/bench/gateway.js --cpu-prof DIR --cpu-prof-engine ENGINE` (the request
 * counts are in its output), e.g. the gateway with and without the delegation stage. On a noisy machine
 * both columns inflate alike; the differences and their order are what to read. This is how the per-call
 * once() wrappers (GC) and the cost of createHmac inside the gateway were found.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const STARTUP = /module_job|cjs\/loader|esm\/loader|esm\/translators/;

function label(n: ProfileNode): string {
  const f = n.callFrame;
  return `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber}`;
}

/** us per request by function: self time, or inclusive (each function once per stack). */
export function perRequest(file: string, requests: number, inclusive: boolean): Map<string, number> {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const leaf = byId.get(p.samples[i]);
    if (!leaf || leaf.callFrame.functionName === '(idle)') continue;
    const stack: ProfileNode[] = [];
    let startup = false;
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (STARTUP.test(n.callFrame.url)) startup = true;
      stack.push(n);
    }
    if (startup) continue;
    const us = (p.timeDeltas[i] ?? 0) / requests;
    const keys = inclusive ? new Set(stack.map(label)) : [label(leaf)];
    for (const k of keys) out.set(k, (out.get(k) ?? 0) + us);
    out.set('(busy total)', (out.get('(busy total)') ?? 0) + us);
  }
  return out;
}

function main(): void {
  const args = process.argv.slice(2);
  const files = args.filter((a) => a.includes(':') && !a.startsWith('--'));
  const topArg = args.indexOf('--top');
  const top = topArg >= 0 ? Number(args[topArg + 1]) : 40;
  if (files.length !== 2) {
    console.error('usage: node dist/bench/profile-diff.js A.cpuprofile:REQUESTS B.cpuprofile:REQUESTS [--inclusive] [--top N]');
    process.exit(2);
  }
  const [a, b] = files.map((f) => {
    const i = f.lastIndexOf(':');
    const n = Number(f.slice(i + 1));
    if (!Number.isFinite(n) || n <= 0) {
      console.error(`${f}: expected FILE:REQUESTS with a positive request count`);
      process.exit(2);
    }
    try {
      return perRequest(f.slice(0, i), n, args.includes('--inclusive'));
    } catch (e) {
      console.error(`${f.slice(0, i)}: not a readable V8 CPU profile (${(e as Error).message})`);
      process.exit(2);
    }
  });
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((k) => [k, a.get(k) ?? 0, b.get(k) ?? 0] as const);
  rows.sort((x, y) => Math.abs(y[2] - y[1]) - Math.abs(x[2] - x[1]));
  console.log(`${'function'.padEnd(64)} ${'A us'.padStart(8)} ${'B us'.padStart(8)} ${'B - A'.padStart(8)}`);
  for (const [k, x, y] of rows.slice(0, top))
    console.log(`${k.slice(0, 64).padEnd(64)} ${x.toFixed(2).padStart(8)} ${y.toFixed(2).padStart(8)} ${(y - x).toFixed(2).padStart(8)}`);
}

if (process.argv[1]?.endsWith('profile-diff.js')) main();
