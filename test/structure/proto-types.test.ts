/**
 * protocol/generated/ is committed: it must be what `npm run proto:types` makes from proto/ today. The
 * generator runs here with the script's own arguments into a temporary folder, and every file is compared
 * byte for byte (and no file may be missing or left over). On failure: run `npm run proto:types`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../build.js';

const COMMITTED = 'protocol/generated';

/** The generator's argument list from the `proto:types` script, writing to `outDir` instead. */
function generatorArgs(outDir: string): string[] {
  const script = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['proto:types'];
  const step = script
    .split('&&')
    .map((s) => s.trim())
    .find((s) => s.startsWith('proto-loader-gen-types '));
  if (!step) throw new Error(`the proto:types script does not run proto-loader-gen-types: ${script}`);
  const args = step.split(/\s+/).slice(1);
  const o = args.indexOf('-O');
  expect(args[o + 1], 'proto:types writes to protocol/generated').toBe(COMMITTED);
  args[o + 1] = outDir;
  return args;
}

function filesUnder(dir: string, base = dir): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) for (const [k, v] of filesUnder(p, base)) out.set(k, v);
    else out.set(path.relative(base, p).split(path.sep).join('/'), fs.readFileSync(p));
  }
  return out;
}

describe('generated gRPC types', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-proto-types-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('protocol/generated/ is what proto-loader-gen-types makes from proto/ (else: npm run proto:types)', () => {
    const bin = path.join(ROOT, 'node_modules', '.bin', 'proto-loader-gen-types');
    // cwd ROOT like npm run: the generated files name their .proto by a path relative to it
    execFileSync(bin, generatorArgs(tmp), { cwd: ROOT, stdio: 'pipe' });
    const fresh = filesUnder(tmp);
    const committed = filesUnder(path.join(ROOT, COMMITTED));
    expect([...committed.keys()].sort(), 'the same files').toEqual([...fresh.keys()].sort());
    const differing = [...fresh].filter(([name, bytes]) => !committed.get(name)?.equals(bytes)).map(([name]) => name);
    expect(differing, 'files that differ from a fresh generation').toEqual([]);
  });
});
