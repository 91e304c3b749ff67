/**
 * An outside reader (the `sqlite3` CLI) on the live database must not split it. SQLite's locks are POSIX
 * locks, which a process loses on a file the moment it closes ANY descriptor of that file; if the gateway
 * ever opens/closes tollgate.db itself, the reader's close sees no other user, checkpoints and deletes the
 * WAL, and the gateway goes on writing into a deleted file (lost on restart) and stops seeing others' writes.
 * Real processes throughout: `tollgate serve`, `sqlite3`, `tollgate token create / bootstrap / ctl`, kill -9.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt, start, tollgate, type Running } from './run.js';

const TD = 'reader.test';
const ADMIN = `spiffe://${TD}/admin/ops`;
const VICTIM = `spiffe://${TD}/agent/victim`;
const LATE = `spiffe://${TD}/agent/late`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-reader-'));
const running: Running[] = [];
afterAll(async () => {
  for (const r of running) await r.stop('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});

async function serve(config: string, dataDir: string) {
  const s = start(['serve', '--config', config, '--data-dir', dataDir]);
  running.push(s);
  const server = (await s.waitFor(/control\s+(127\.0\.0\.1:\d+)/))[1];
  const fp = (await s.waitFor(/root\s+(sha256:[0-9a-f]{64})/))[1];
  await s.waitFor(/npm run demo.*\n/);
  return { s, server, fp };
}

function ok(args: string[]): string {
  const r = tollgate(args);
  expect(r.code, `tollgate ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

describe('an outside sqlite3 reader while tollgate serve runs', () => {
  it('keeps one database: writes from the gateway and from the CLI after the read are seen and survive kill -9', async () => {
    ensureBuilt();
    const dataDir = path.join(work, 'data');
    const db = path.join(dataDir, 'tollgate.db');
    const config = path.join(work, 'tollgate.yaml');
    fs.writeFileSync(config, `trustDomain: ${TD}\nadmins: [${ADMIN}]\nlisten: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }\n`);
    const first = await serve(config, dataDir);
    const token = (id: string) => ok(['token', 'create', '--spiffe-id', id, '--data-dir', dataDir, '--config', config]);
    const bootstrap = (id: string, tok: string) =>
      tollgate(['bootstrap', '--server', first.server, '--token', tok, '--fingerprint', first.fp, '--out', path.join(work, id.split('/').pop()!)]);
    const adminDir = path.join(work, 'ops');
    expect(bootstrap(ADMIN, token(ADMIN)).code).toBe(0);
    expect(bootstrap(VICTIM, token(VICTIM)).code).toBe(0);

    // the outside read
    const read = spawnSync('sqlite3', [db, 'select count(*) from issued'], { encoding: 'utf8' });
    expect(read.status, read.stderr).toBe(0);
    expect(Number(read.stdout.trim())).toBeGreaterThanOrEqual(3); // gateway SVID, admin, victim
    const fds = fs.readdirSync(`/proc/${first.s.child.pid}/fd`).map((fd) => {
      try {
        return fs.readlinkSync(`/proc/${first.s.child.pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    expect(fds.filter((f) => f.includes('tollgate.db') && f.includes('(deleted)'))).toEqual([]);

    // a write by the gateway (the revocation) and one by another process (the token) after the read
    ok(['ctl', 'revoke', '--spiffe-id', VICTIM, '--server', first.server, '--cert-dir', adminDir]);
    const late = bootstrap(LATE, token(LATE));
    expect(late.code, late.stderr).toBe(0); // the gateway sees the CLI's token

    first.s.child.kill('SIGKILL');
    await first.s.stop('SIGKILL');
    await serve(config, dataDir);

    // the revocation survived: no new token for the victim
    const refused = tollgate(['token', 'create', '--spiffe-id', VICTIM, '--data-dir', dataDir, '--config', config]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${VICTIM} is revoked`);
    const integrity = spawnSync('sqlite3', [db, 'pragma integrity_check'], { encoding: 'utf8' });
    expect(integrity.stdout.trim()).toBe('ok');
  }, 90_000);
});
