/**
 * What an idle `tollgate serve` has loaded. Every package below is loaded on first use, or only when its
 * feature is configured, because holding it from the start cost idle memory (docs/performance.md "Memory",
 * "Session 6", "Session 7"); a static import that brings one back at start fails here. So do Tollgate's own
 * modules listed below, an ESM import of node:tls (certs/node-tls.ts) and a date formatted at start
 * (record-date-formatting.mjs). The real CLI runs on a fresh data
 * dir with the default config (no agents, redis, tracing or store), under record-loads.mjs; once it is
 * listening, record-loads-on-signal.mjs writes what it has loaded so far.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt } from '../build.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** package -> where it loads instead */
const NOT_AT_IDLE: Record<string, string> = {
  '@grpc/proto-loader': 'the first control call parses its .proto file (protocol/lazy-definition.ts)',
  protobufjs: 'under @grpc/proto-loader',
  'grpc-health-check': 'the first health call (control/admin/health.ts)',
  '@grpc/reflection': 'the first reflection call (control/admin/health.ts)',
  jose: 'the first signed agent card (proxy/a2a/card-signing.ts)',
  '@peculiar/x509': 'never on the serve path: SVIDs are read with certs/der.ts',
  'reflect-metadata': 'with @peculiar/x509',
  express: 'never on the serve path (demo agents)',
  '@a2a-js/sdk': 'never on the serve path (demo agents)',
  '@opentelemetry/sdk-trace-base': 'tracing: configured (gateway/tracing.ts)',
  '@opentelemetry/exporter-trace-otlp-proto': 'tracing: configured',
  ioredis: 'redis: configured',
  pg: 'store: postgres:// configured',
};

/** Tollgate's own modules an idle gateway does not need -> where they load instead */
const OWN_NOT_AT_IDLE: Record<string, string> = {
  'dist/cli/help.js': '`--help` (cli/main.ts, cli/commands/serve.ts)',
  'dist/gateway/fleet-governance.js': 'redis: configured (gateway/tollgate.ts)',
  'dist/gateway/graph-stream.js': 'redis: configured',
  'dist/governance/fleet/task-owners.js': 'redis: configured',
};

const rel = (u: string) =>
  path
    .relative(ROOT, u.startsWith('file:') ? fileURLToPath(u) : u)
    .split(path.sep)
    .join('/');

describe('an idle tollgate serve', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-idle-'));
  let loaded: string[];
  let builtins: string[];
  let dateFormatting: string | null;
  let exitCode: number | null;

  beforeAll(async () => {
    ensureBuilt();
    const config = path.join(work, 'tollgate.yaml');
    const out = path.join(work, 'loaded.json');
    fs.writeFileSync(config, 'serverNames: [localhost, 127.0.0.1]\nlisten: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }\n');
    const child = spawn(
      process.execPath,
      [
        '--import',
        path.join(HERE, 'record-loads.mjs'),
        '--import',
        path.join(HERE, 'record-loads-on-signal.mjs'),
        '--import',
        path.join(HERE, 'record-date-formatting.mjs'),
        path.join(ROOT, 'dist/cli/main.js'),
        'serve',
        '--config',
        config,
        '--data-dir',
        path.join(work, 'data'),
      ],
      { cwd: ROOT, env: { ...process.env, RECORD_LOADS_OUT: out }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${text}`)), 30_000);
        const check = (d: Buffer) => {
          text += d.toString();
          // the banner's last line: every listener is up
          if (/npm run demo.*\n/.test(text)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        void exited.then(() => reject(new Error(`serve exited before it was ready:\n${text}`)));
      });
      child.kill('SIGUSR2');
      const deadline = Date.now() + 10_000;
      while (!fs.existsSync(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const all = JSON.parse(fs.readFileSync(out, 'utf8')) as string[];
      loaded = all.filter((u) => !u.startsWith('node:')).map(rel);
      builtins = all.filter((u) => u.startsWith('node:'));
      dateFormatting = (JSON.parse(fs.readFileSync(`${out}.dates`, 'utf8')) as { first: string | null }).first;
    } finally {
      child.kill('SIGTERM');
      exitCode = await exited;
    }
  }, 60_000);

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('was recorded: the gateway, its dependencies and CommonJS requires are in the list, and it stopped cleanly', () => {
    expect(loaded).toContain('dist/cli/commands/serve.js');
    expect(loaded).toContain('dist/gateway/tollgate.js');
    expect(loaded).toContain('node_modules/@grpc/grpc-js/build/src/server.js'); // required from inside CommonJS
    expect(loaded.some((p) => p.startsWith('node_modules/better-sqlite3/'))).toBe(true);
    expect(exitCode).toBe(0);
  });

  it.each(Object.entries(NOT_AT_IDLE))('has not loaded %s (loads at: %s)', (pkg) => {
    expect(loaded.filter((p) => p.includes(`node_modules/${pkg}/`))).toEqual([]);
  });

  it.each(Object.entries(OWN_NOT_AT_IDLE))('has not loaded %s (loads at: %s)', (file) => {
    expect(loaded).not.toContain(file);
  });

  it('has not imported node:tls as an ES module (its facade reads tls.rootCertificates: certs/node-tls.ts)', () => {
    expect(builtins).toContain('node:fs'); // builtins imported as ES modules are recorded
    expect(builtins).not.toContain('node:tls');
  });

  it('has not formatted a date (the first one pages in the ICU time zone data)', () => {
    expect(dateFormatting).toBeNull();
  });
});
