/**
 * Peer SVID validation cost (certs/svid.ts validateSvid): what the proxy pays for every new mTLS connection
 * and the control API for every call. Measured on a leaf + intermediate chain under a P-256 root, with the
 * trust bundle parsed once (TrustBundle, as the proxy does) and, separately, parsed per call. Also the
 * resident memory and module count that importing certs/svid.js adds to a bare Node process (child
 * processes, so this process's own imports do not count).
 *
 *   node dist/bench/svid.js [n]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { validateSvid, TrustBundle } from '../certs/svid.js';
import { pemBlocks } from '../certs/pem.js';
import { makeBenchPki } from './lib/pki.js';

export interface SvidBenchResult {
  /** CPU µs per validateSvid with a prebuilt TrustBundle (the proxy's path) */
  usPerValidation: number;
  /** CPU µs per validateSvid parsing the bundle on each call */
  usPerValidationBundlePerCall: number;
  /** CPU µs of the bare signature checks one validation needs (two ECDSA P-256 verifies via X509Certificate) */
  cryptoFloorUs: number;
  /** RSS added by importing certs/svid.js into a bare node process, MB (median of 3) */
  importRssMb: number;
  /** modules resolved by that import */
  importModules: number;
  n: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));

function cpuUsPer(n: number, fn: () => void): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const c = process.cpuUsage(c0);
  return Math.round(((c.user + c.system) / n) * 10) / 10;
}

/** RSS and module count of `import(target)` in a fresh node, after a GC on both sides. */
export function importFootprint(target: string): { rssMb: number; modules: number } {
  const list = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-mods-')), 'list.txt');
  const script = `globalThis.gc(); const r0 = process.memoryUsage().rss; await import(${JSON.stringify(pathToFileURL(target).href)}); globalThis.gc(); console.log(process.memoryUsage().rss - r0);`;
  const rss: number[] = [];
  for (let i = 0; i < 3; i++) {
    fs.writeFileSync(list, '');
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--import', path.join(here, 'lib/module-hook-register.js'), '--input-type=module', '-e', script],
      {
        env: { ...process.env, TOLLGATE_MODULE_LIST: list },
        encoding: 'utf8',
      },
    );
    rss.push(Number(out.trim()) / 1024 / 1024);
  }
  const mods = new Set(
    fs
      .readFileSync(list, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('file:')),
  );
  fs.rmSync(path.dirname(list), { recursive: true, force: true });
  rss.sort((a, b) => a - b);
  return { rssMb: Math.round(rss[1] * 10) / 10, modules: mods.size };
}

export async function runSvidBench(opts: { n?: number } = {}): Promise<SvidBenchResult> {
  const n = opts.n ?? 3000;
  const td = 'bench.local';
  const pki = await makeBenchPki(td);
  const leaf = await pki.leaf('bench', '/agent/bench');
  const chain = pemBlocks(leaf.chainPem);
  const bundleDer = pemBlocks(pki.rootPem);
  const bundle = new TrustBundle(bundleDer);
  const opts0 = { chain, bundle: bundleDer, now: Date.now(), trustDomain: td, usage: 'client' as const };
  for (let i = 0; i < 300; i++) validateSvid(opts0, bundle); // warm-up
  const usPerValidation = cpuUsPer(n, () => validateSvid(opts0, bundle));
  const usPerValidationBundlePerCall = cpuUsPer(Math.ceil(n / 2), () => validateSvid(opts0));

  const { X509Certificate } = await import('node:crypto');
  const [l, i0] = chain.map((d) => new X509Certificate(d));
  const r = new X509Certificate(bundleDer[0]);
  const cryptoFloorUs = cpuUsPer(n, () => {
    l.verify(i0.publicKey);
    i0.verify(r.publicKey);
  });
  const fp = importFootprint(path.join(here, '../certs/svid.js'));
  return { usPerValidation, usPerValidationBundlePerCall, cryptoFloorUs, importRssMb: fp.rssMb, importModules: fp.modules, n };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const r = await runSvidBench({ n: Number(process.argv[2] ?? 3000) });
  console.log(
    `validateSvid: ${r.usPerValidation} µs CPU per validation (prebuilt bundle), ${r.usPerValidationBundlePerCall} µs parsing the bundle per call; bare signature checks ${r.cryptoFloorUs} µs; import certs/svid.js: +${r.importRssMb} MB RSS, ${r.importModules} modules; n=${r.n}`,
  );
}
