/** `tollgate serve` start-up failures: one line saying what to do, exit 1, no stack trace, nothing left running. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tollgate } from './run.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-serve-errors-'));
let blocker: net.Server;
let busyPort = 0;

beforeAll(async () => {
  ensureBuilt();
  blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  busyPort = (blocker.address() as net.AddressInfo).port;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((r) => blocker.close(() => r()));
  fs.rmSync(work, { recursive: true, force: true });
});

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.startsWith('tollgate:') || /^\s+at /.test(l) || /Error/.test(l));
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

function config(name: string, text: string): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('tollgate serve refuses to start, clearly', () => {
  it('a port already in use', () => {
    for (const listener of ['proxy', 'control', 'metrics']) {
      const ports = { proxy: '127.0.0.1:0', control: '127.0.0.1:0', metrics: '127.0.0.1:0', [listener]: `127.0.0.1:${busyPort}` };
      const file = config(`busy-${listener}.yaml`, `listen: { proxy: ${ports.proxy}, control: ${ports.control}, metrics: ${ports.metrics} }\n`);
      const r = tollgate(['serve', '--config', file, '--data-dir', path.join(work, `d-${listener}`)]);
      expect(r.code, r.stderr).toBe(1);
      expect(oneLine(r.stderr)).toMatch(new RegExp(`${busyPort}.*EADDRINUSE.*(another process|change listen)`));
    }
  });

  it('a bad config names the key and the reason', () => {
    const file = config('bad.yaml', 'listen: { proxy: nowhere }\nagents: { w: { url: http://x, id: spiffe://tollgate.local/agent/w } }\n');
    const r = tollgate(['serve', '--config', file, '--data-dir', path.join(work, 'd-bad')]);
    expect(r.code).toBe(1);
    const line = oneLine(r.stderr);
    expect(line).toContain('listen.proxy');
    expect(line).toContain('agents.w.url');
  });

  it('an unusable data dir', () => {
    const file = path.join(work, 'a-file');
    fs.writeFileSync(file, 'not a directory');
    const r = tollgate(['serve', '--data-dir', path.join(file, 'data')]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/data dir|directory/i);
  });
});
