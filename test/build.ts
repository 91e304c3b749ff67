/**
 * Tests that run the compiled CLI or demo (dist/) build it first when any source is newer than its output.
 * `npm test` builds before vitest, so this is a no-op there; it matters when one test file runs alone.
 * A lock directory keeps parallel test files from building at the same time.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOCK = path.join(ROOT, 'dist', '.test-build.lock');

/** Source files (tsconfig "include") whose compiled .js is missing or older. */
function staleSources(): string[] {
  const include = (JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] }).include;
  const stale: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(ROOT, rel);
    if (!fs.existsSync(abs)) return;
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) {
        const out = path.join(ROOT, 'dist', r.replace(/\.ts$/, '.js'));
        if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(path.join(ROOT, r)).mtimeMs) stale.push(r);
      }
    }
  };
  for (const dir of include) walk(dir);
  return stale;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function ensureBuilt(): void {
  if (staleSources().length === 0) return;
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() > deadline) fs.rmSync(LOCK, { recursive: true, force: true }); // stale lock
      sleepSync(200);
    }
  }
  try {
    if (staleSources().length === 0) return; // built by another test file meanwhile
    try {
      execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'pipe' });
    } catch (e) {
      const out = (e as { stdout?: Buffer }).stdout?.toString() ?? '';
      throw new Error(`the build failed (npx tsc -p .):\n${out.slice(0, 4000)}`, { cause: e });
    }
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}
