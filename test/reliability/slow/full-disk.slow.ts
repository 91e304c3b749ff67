import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild, sid, type ChildGateway } from './child.js';
import { bootstrap } from '../../../agent-bootstrap/index.js';
import { report } from '../helpers.js';

/**
 * Full disk: the data dir on a 2 MB tmpfs (needs root: `mount -t tmpfs`; skipped with the reason otherwise).
 * The disk is filled with a filler file; a bootstrap must fail with a clear error and the gateway must keep
 * running; once the filler is removed, the next bootstrap succeeds.
 */
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-fulldisk-'));
let mounted = false;
let why = 'not root';
if (isRoot) {
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
  mounted = m.status === 0;
  why = mounted ? '' : `mount -t tmpfs failed: ${(m.stderr || '').trim()}`;
}

let g: ChildGateway | undefined;
afterAll(async () => {
  await g?.cleanup();
  if (mounted) spawnSync('umount', [mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
});

describe.skipIf(!mounted)(`red team (slow): full disk${mounted ? '' : ` (skipped: ${why})`}`, () => {
  let fullError = '';
  let aliveWhileFull = false;
  let afterFree = '';
  beforeAll(async () => {
    g = await startChild({ dataDir: path.join(mnt, 'data'), noUpstream: true });
    const during = await g.token(sid('agent/full-1'));
    const after = await g.token(sid('agent/full-2'));
    const filler = path.join(mnt, 'filler');
    const fd = fs.openSync(filler, 'w');
    const block = Buffer.alloc(4096, 1);
    try {
      for (let i = 0; i < 1024; i++) fs.writeSync(fd, block);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    }
    // small writes too, until not even one byte fits
    try {
      for (let i = 0; i < 4096; i++) fs.writeSync(fd, Buffer.alloc(1));
    } catch {
      // full
    }
    fs.closeSync(fd);
    try {
      await bootstrap({ server: g.control, token: during, fingerprint: g.fp });
      fullError = '(succeeded)';
    } catch (e) {
      fullError = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
    aliveWhileFull = g.serve.child.exitCode === null && g.serve.child.signalCode === null;
    fs.rmSync(filler);
    try {
      const m = await bootstrap({ server: g.control, token: after, fingerprint: g.fp });
      afterFree = m.spiffeId;
    } catch (e) {
      afterFree = `failed: ${(e as Error).message}`;
    }
    report('full_disk', {
      tmpfs: '2m',
      bootstrap_while_full: fullError.slice(0, 160),
      gateway_alive: aliveWhileFull,
      bootstrap_after_free: afterFree.slice(0, 120),
    });
  }, 120_000);

  it('issuance on a full disk fails with a clear error', () => {
    expect(fullError).not.toBe('(succeeded)');
    expect(fullError).toMatch(/space|full|disk|store|ENOSPC|SQLITE_FULL/i);
  });

  it('the gateway keeps running', () => {
    expect(aliveWhileFull).toBe(true);
  });

  it('issuance recovers once space is freed', () => {
    expect(afterFree).toBe(sid('agent/full-2'));
  });
});
