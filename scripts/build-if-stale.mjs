// `npm start` / `npm run demo`: build only when a source file is newer than its compiled output (or has none),
// so a second start takes milliseconds instead of a full `tsc` run. Same rule as test/build.ts.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function firstStale() {
  const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  const stack = [...tsconfig.include];
  while (stack.length > 0) {
    const rel = stack.pop();
    const abs = path.join(root, rel);
    if (!fs.existsSync(abs)) continue;
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) stack.push(r);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) {
        const out = path.join(root, 'dist', r.replace(/\.ts$/, '.js'));
        if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(path.join(root, r)).mtimeMs) return r;
      }
    }
  }
  return undefined;
}

const stale = firstStale();
if (stale !== undefined) {
  process.stderr.write(`building (${stale} changed)...\n`);
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  } catch {
    process.exit(1);
  }
}
