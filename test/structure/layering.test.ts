/**
 * No folder imports one above it. Every source file's relative imports (static, `export ... from`, type-only
 * and dynamic alike: a type import is still a dependency on that folder's design) are resolved to a
 * top-level folder and checked against MAY_IMPORT below.
 *
 * The layers, bottom up, and why:
 *   protocol/         the wire contract (proto loading, generated messages, the error base, the revocation
 *                     log): imports nothing of ours, so both ends of a call can share it. Lowest of all,
 *                     below certs/, because certs' errors extend CodedError.
 *   certs/            SPIFFE/SVID primitives and rotation timing, no I/O.
 *   config/           the config schema (uses SPIFFE ID parsing).
 *   database/         the PostgreSQL pool, schema and migrations a fleet shares; no domain knowledge (each
 *                     store's queries live beside its SQLite twin in ca/, governance/, control/).
 *   ca/, governance/  the CA core; the delegation core and call graph. Independent of each other.
 *   agent-bootstrap/  what agents import (published as tollgate/agent-bootstrap): certs and protocol only,
 *                     never server code (test/structure/published-export.test.ts checks what it loads).
 *   proxy/            the data plane. It sees the CA only through its contract, ca/api.ts (types:
 *                     GatewayCredentials, CaEvents), never the authority or the store.
 *   control/          the gRPC control API over the CA.
 *   ui/               the graph page: reads governance's graph; may use proxy helpers.
 *   gateway/          the composition root: everything above the entry points.
 *   cli/, demo/, bench/  entry points: nothing imports them. cli/ may import any layer (its error line
 *                     names every layer's error type); demo/ and bench/ what they run or measure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../build.js';

const BELOW_ALL = ['protocol', 'certs'] as const;
const MAY_IMPORT: Record<string, readonly string[]> = {
  protocol: [],
  certs: ['protocol'],
  config: [...BELOW_ALL],
  database: ['protocol'],
  ca: [...BELOW_ALL, 'config', 'database'],
  governance: [...BELOW_ALL, 'config', 'database'],
  'agent-bootstrap': [...BELOW_ALL],
  proxy: [...BELOW_ALL, 'config', 'ca'],
  control: [...BELOW_ALL, 'config', 'ca', 'database'],
  ui: [...BELOW_ALL, 'config', 'governance', 'proxy'],
  gateway: [...BELOW_ALL, 'config', 'database', 'ca', 'governance', 'proxy', 'control', 'ui'],
  cli: [...BELOW_ALL, 'config', 'database', 'ca', 'governance', 'agent-bootstrap', 'proxy', 'control', 'ui', 'gateway'],
  demo: [...BELOW_ALL, 'config', 'governance', 'proxy', 'agent-bootstrap', 'gateway'],
  bench: [...BELOW_ALL, 'config', 'database', 'ca', 'governance', 'agent-bootstrap', 'proxy', 'control', 'gateway'],
};

/** Edges allowed only into these files of the imported folder. */
const ONLY_FILES: Record<string, readonly string[]> = {
  'proxy -> ca': ['ca/api.ts'],
};

const IMPORT_PATTERNS = [
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, // import x from '…', export { x } from '…' (multi-line too)
  /\bimport\s*['"]([^'"]+)['"]/g, // import '…' (side effects)
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, // import('…')
];

export function relativeImports(source: string): string[] {
  const out: string[] = [];
  for (const re of IMPORT_PATTERNS) for (const m of source.matchAll(re)) if (m[1].startsWith('.')) out.push(m[1]);
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts)$/.test(e.name) && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** `from -> to` edges that break the table, each with the file and the import. */
function violations(): string[] {
  const bad: string[] = [];
  for (const folder of Object.keys(MAY_IMPORT)) {
    const dir = path.join(ROOT, folder);
    if (!fs.existsSync(dir)) continue;
    for (const file of sourceFiles(dir)) {
      for (const spec of relativeImports(fs.readFileSync(file, 'utf8'))) {
        const target = path
          .relative(ROOT, path.resolve(path.dirname(file), spec))
          .replace(/\.js$/, '.ts')
          .split(path.sep)
          .join('/');
        const to = target.split('/')[0];
        if (to === folder) continue;
        const edge = `${folder} -> ${to}`;
        const only = ONLY_FILES[edge];
        const allowed = (MAY_IMPORT[folder] ?? []).includes(to) && (!only || only.includes(target));
        if (!allowed) bad.push(`${edge}: ${path.relative(ROOT, file)} imports ${spec}`);
      }
    }
  }
  return bad;
}

describe('layering', () => {
  it('no folder imports one above it', () => {
    expect(violations()).toEqual([]);
  });

  it('the table covers every source folder of tsconfig.json', () => {
    const include = (JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] }).include;
    expect([...include].sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });

  it('finds imports in every form the check relies on', () => {
    const src = [
      "import { a } from '../ca/api.js';",
      "import type {\n  B,\n  C,\n} from '../control/proto.js';",
      "export { d } from './d.js';",
      "import '../x/side-effect.js';",
      "const m = await import('../gateway/tollgate.js');",
      "import { e } from 'node:fs';",
    ].join('\n');
    expect(relativeImports(src).sort()).toEqual(['../ca/api.js', '../control/proto.js', '../gateway/tollgate.js', '../x/side-effect.js', './d.js']);
  });
});
