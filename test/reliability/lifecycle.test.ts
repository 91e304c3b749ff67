import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../proxy/harness.js';
import { MAIN, ensureBuilt } from '../cli/run.js';
import { rawExchange, request, RPC } from './helpers.js';

/** Red team: slow clients against the header timeout, and the CLI writing into a closed pipe. */
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ extraConfig: { timeouts: { headers: '1s' } } });
});
afterAll(async () => h?.close());

describe('red team: header timeout', () => {
  it('a connection that never sends a byte after the handshake does not get an answer from the callee', async () => {
    const r = await rawExchange(h.gw.port, h.alice, h.td.bundlePem, [], { maxMs: 1_500 });
    expect(r.statuses.filter((s) => s < 400)).toEqual([]);
    expect(h.upstream.requests).toHaveLength(0);
  });

  it('headers trickled one byte every 200 ms are cut off within timeouts.headers (1 s) + 1.5 s', async () => {
    const text = request('POST', '/a2a/echo/', { 'Content-Type': 'application/json', 'X-Slow': 'x'.repeat(40) }, RPC(1));
    // eslint-disable-next-line @typescript-eslint/no-misused-spread -- the request is ASCII: one string per byte is the point (trickled one at a time)
    const parts = [...text.slice(0, 60)]; // never completes the header block
    const r = await rawExchange(h.gw.port, h.alice, h.td.bundlePem, parts, { gapMs: 200, maxMs: 4_000 });
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(2_500);
    expect(h.upstream.requests).toHaveLength(0);
  }, 10_000);
});

describe('red team: the CLI and a closed stdout', () => {
  it('`tollgate ca init` whose stdout reader went away finishes its work without an unhandled EPIPE', async () => {
    ensureBuilt();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-epipe-'));
    try {
      const child = spawn(process.execPath, [MAIN, 'ca', 'init', '--data-dir', path.join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // like `tollgate ... | true`
      let err = '';
      child.stderr.on('data', (d: Buffer | string) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(err).not.toMatch(/Unhandled 'error' event|EPIPE/);
      expect(code).toBe(0);
      expect(fs.existsSync(path.join(dir, 'data', 'tollgate.db'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
