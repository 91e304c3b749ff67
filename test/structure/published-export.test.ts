/**
 * What an agent loads when it imports `tollgate/agent-bootstrap`: a clean `node` process imports the
 * published export (package.json "exports" -> dist/agent-bootstrap/index.js) under a loader hook that
 * records every module resolved (record-loads.mjs). Agents must not load the gateway's server code (the
 * CA, the control API, the proxy...) nor its server-only dependencies.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt } from '../build.js';

const RECORDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'record-loads.mjs');

const SERVER_FOLDERS = ['control', 'ca', 'proxy', 'governance', 'gateway', 'ui', 'cli'];
const SERVER_PACKAGES = ['express', 'better-sqlite3', '@a2a-js/sdk/server'];

const rel = (u: string) =>
  path
    .relative(ROOT, u.startsWith('file:') ? fileURLToPath(u) : u)
    .split(path.sep)
    .join('/');

/**
 * Paths relative to the repository (dist/…, node_modules/…) of everything `specifier` loads, and where
 * each of `watch` resolves to (resolved in the same process, so the same conditions apply).
 */
function modulesLoadedBy(specifier: string, watch: readonly string[] = []): { loaded: string[]; resolved: Record<string, string> } {
  const script = [
    `await import(${JSON.stringify(specifier)});`,
    'await globalThis.__recordLoadsFlush();',
    'const loaded = globalThis.__recordLoadsList();',
    // after the list is taken: resolving goes through the recorder's hook too
    `const resolved = Object.fromEntries(${JSON.stringify(watch)}.map((s) => [s, import.meta.resolve(s)]));`,
    'process.stdout.write(JSON.stringify({ loaded, resolved }));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', RECORDER, '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  const r = JSON.parse(out) as { loaded: string[]; resolved: Record<string, string> };
  return {
    loaded: r.loaded.filter((u) => !u.startsWith('node:')).map(rel),
    resolved: Object.fromEntries(Object.entries(r.resolved).map(([k, v]) => [k, rel(v)])),
  };
}

/** The files that make up a package (its folder) or a subpath export (the folder of its entry). */
function areaOf(specifier: string, entry: string): string {
  const pkg = /^(?:@[^/]+\/)?[^/]+$/.test(specifier);
  return pkg ? entry.slice(0, entry.indexOf(`node_modules/${specifier}/`) + `node_modules/${specifier}/`.length) : `${path.posix.dirname(entry)}/`;
}

describe('the published tollgate/agent-bootstrap export', () => {
  let loaded: string[];
  let resolved: Record<string, string>;
  beforeAll(() => {
    ensureBuilt();
    ({ loaded, resolved } = modulesLoadedBy('tollgate/agent-bootstrap', SERVER_PACKAGES));
  }, 120_000);

  it('resolves to dist/agent-bootstrap/index.js and the recorder sees what it loads', () => {
    expect(loaded).toContain('dist/agent-bootstrap/index.js');
    expect(loaded).toContain('dist/protocol/identity.js'); // the identity client: the recorder follows imports
    expect(loaded.some((p) => p.startsWith('node_modules/@grpc/grpc-js/'))).toBe(true);
  });

  it('loads no server code', () => {
    const server = loaded.filter((p) => SERVER_FOLDERS.some((f) => p.startsWith(`dist/${f}/`)));
    expect(server).toEqual([]);
  });

  it('loads no server-only package', () => {
    const areas = SERVER_PACKAGES.map((p) => areaOf(p, resolved[p]));
    expect(areas).toEqual(['node_modules/express/', 'node_modules/better-sqlite3/', expect.stringMatching(/^node_modules\/@a2a-js\/sdk\/.*server\/$/)]);
    expect(loaded.filter((p) => areas.some((a) => p.startsWith(a)))).toEqual([]);
  });

  it('the recorder would see them: CommonJS requires included', () => {
    const { loaded: byExpress } = modulesLoadedBy('express');
    expect(byExpress).toContain('node_modules/express/index.js');
    expect(byExpress).toContain('node_modules/express/lib/express.js'); // required from inside CommonJS
  });
});
