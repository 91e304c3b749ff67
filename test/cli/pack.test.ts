// The package an agent project installs: `npm pack` output, installed in a fresh project, imports
// `tollgate/agent-bootstrap` at run time and type-checks against its declarations.
// Offline, `npm install <tarball>` cannot fetch the dependencies (the npm cache holds no registry metadata:
// ENOTCACHED), so the test does what npm would do with the tarball itself — unpacks it as
// node_modules/tollgate — and links each declared dependency from this checkout's node_modules.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt } from './run.js';

let dir = '';
let project = '';
let files: string[] = [];
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  exports: Record<string, { types: string; default: string } | string>;
};

beforeAll(() => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-pack-'));
  // --ignore-scripts: `prepare` would rebuild; ensureBuilt() already did when sources changed
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  const info = (JSON.parse(out) as { filename: string; files: { path: string }[] }[])[0];
  files = info.files.map((f) => f.path);
  project = path.join(dir, 'agent-project');
  const installed = path.join(project, 'node_modules', pkg.name);
  fs.mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['xzf', path.join(dir, path.basename(info.filename)), '-C', installed, '--strip-components=1']);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'agent-project', version: '1.0.0', type: 'module', private: true }));
  for (const dep of Object.keys(pkg.dependencies)) {
    const link = path.join(project, 'node_modules', dep);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', dep), link);
  }
}, 120_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: project, encoding: 'utf8', timeout: 30_000 });

describe('npm pack', () => {
  it('ships the compiled library with its declarations, the .proto files and the graph page; not the sources or tests', () => {
    for (const f of [
      'dist/agent-bootstrap/index.js',
      'dist/agent-bootstrap/index.d.ts',
      'dist/cli/main.js',
      'proto/tollgate/v1/identity.proto',
      'ui/page.html',
      'ui/app.js',
    ])
      expect(files, f).toContain(f);
    expect(
      files.filter((f) => f.startsWith('test/') || f.startsWith('dist/bench/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.endsWith('.map')),
    ).toEqual([]);
  });

  it('declares types for every export', () => {
    for (const [sub, target] of Object.entries(pkg.exports)) {
      if (sub === './package.json') continue;
      expect(typeof target === 'object' && fs.existsSync(path.join(ROOT, target.types)), sub).toBe(true);
    }
  });
});

describe('installed in a fresh project', () => {
  it('imports tollgate/agent-bootstrap (and tollgate/certs) at run time', () => {
    const r = node([
      '--input-type=module',
      '-e',
      "const a = await import('tollgate/agent-bootstrap'); const c = await import('tollgate/certs'); console.log(typeof a.bootstrap, typeof a.AgentIdentity, typeof a.createMtlsFetch, typeof a.createAgentServer, Object.keys(c).length > 0);",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('function function function function true');
  });

  it('type-checks against the declarations, and a wrong call does not', () => {
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const opts = [
      '--noEmit',
      '--skipLibCheck',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      '--typeRoots',
      path.join(ROOT, 'node_modules/@types'),
    ];
    fs.writeFileSync(
      path.join(project, 'good.ts'),
      [
        "import { AgentIdentity, bootstrap, createMtlsFetch, type SvidMaterial } from 'tollgate/agent-bootstrap';",
        "const m: SvidMaterial = await bootstrap({ server: '127.0.0.1:8444', token: 't', fingerprint: 'sha256:00', outDir: './id' });",
        'const id = new AgentIdentity(m);',
        "export const f = createMtlsFetch(id, { expectedServerId: 'spiffe://tollgate.local/tollgate/gateway' });",
      ].join('\n'),
    );
    fs.writeFileSync(path.join(project, 'bad.ts'), "import { bootstrap } from 'tollgate/agent-bootstrap';\nawait bootstrap({ server: 8444 });\nexport {};\n");
    const good = node([tsc, ...opts, 'good.ts']);
    expect(good.status, good.stdout + good.stderr).toBe(0);
    const bad = node([tsc, ...opts, 'bad.ts']);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/bad\.ts.*error TS\d+/);
  }, 60_000);

  it('runs the tollgate command from the package', () => {
    const r = node([path.join(project, 'node_modules/tollgate/dist/cli/main.js'), '--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${pkg.name} ${pkg.version}`);
  });
});
