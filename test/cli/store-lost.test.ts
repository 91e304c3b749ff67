/**
 * The CA database must not vanish silently. Through the real CLI:
 *  - at start, a data dir whose CA keys exist but whose tollgate.db is missing or new is refused by every
 *    command that opens the CA (serve, token create, ca init) unless --recreate-store says so;
 *  - while serving, deleting tollgate.db is noticed: issuing and revoking stop with an error, the log names
 *    the file, and /metrics shows tollgate_ca_store_lost 1.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt, start, tollgate, type Running } from './run.js';

const TD = 'lost.test';
const ADMIN = `spiffe://${TD}/admin/ops`;
const AGENT = `spiffe://${TD}/agent/a`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-lost-'));
const running: Running[] = [];
afterAll(async () => {
  for (const r of running) await r.stop('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});

function setup(name: string) {
  ensureBuilt();
  const dir = path.join(work, name);
  const dataDir = path.join(dir, 'data');
  const config = path.join(dir, 'tollgate.yaml');
  fs.mkdirSync(dir);
  fs.writeFileSync(config, `trustDomain: ${TD}\nadmins: [${ADMIN}]\nlisten: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }\n`);
  return { dir, dataDir, config, db: path.join(dataDir, 'tollgate.db') };
}

function removeDb(db: string) {
  for (const f of ['', '-wal', '-shm']) fs.rmSync(db + f, { force: true });
}

/** serve until it either prints its banner or exits */
async function serve(args: string[]) {
  const s = start(['serve', ...args]);
  running.push(s);
  await s.waitFor(/npm run demo.*\n|tollgate: .*\n/);
  return s;
}

/** the exit code of a serve that is expected to exit by itself */
function exited(s: Running): Promise<number | null> {
  return new Promise((resolve) => (s.child.exitCode !== null ? resolve(s.child.exitCode) : s.child.on('exit', (code) => resolve(code))));
}

/** The one-line refusal: names the data dir, what is wrong and the flag. */
function expectRefusal(stderr: string, dataDir: string) {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^tollgate: /);
  expect(lines[0]).toContain(dataDir);
  expect(lines[0]).toMatch(/tollgate\.db is (missing|new)/);
  expect(lines[0]).toContain('--recreate-store');
}

describe('a CA whose database is missing or new', () => {
  it('is refused by serve, token create and ca init until --recreate-store', async () => {
    const { dataDir, config, db } = setup('start');
    const init = tollgate(['ca', 'init', '--data-dir', dataDir, '--config', config]);
    expect(init.code, init.stderr).toBe(0);
    const fp = init.stdout.trim();
    removeDb(db);

    const s = await serve(['--config', config, '--data-dir', dataDir]);
    expect(await exited(s)).toBe(1);
    expectRefusal(s.stderr(), dataDir);
    expect(s.stdout()).not.toContain('Tollgate is running');
    expect(fs.existsSync(db)).toBe(false); // the refusal created nothing

    const tok = tollgate(['token', 'create', '--spiffe-id', AGENT, '--data-dir', dataDir, '--config', config]);
    expect(tok.code).toBe(1);
    expect(tok.stdout).toBe('');
    expectRefusal(tok.stderr, dataDir);
    const again = tollgate(['ca', 'init', '--data-dir', dataDir, '--config', config]);
    expect(again.code).toBe(1);
    expectRefusal(again.stderr, dataDir);
    expect(fs.existsSync(db)).toBe(false);

    // a new, empty database in its place (as any SQLite client would create it) is refused the same way
    const made = spawnSync('sqlite3', [db, 'CREATE TABLE t (x)'], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const tok2 = tollgate(['token', 'create', '--spiffe-id', AGENT, '--data-dir', dataDir, '--config', config]);
    expect(tok2.code).toBe(1);
    expectRefusal(tok2.stderr, dataDir);

    // told explicitly: the same CA (same root) with an empty store, and from then on no flag is needed
    const recreated = tollgate(['ca', 'init', '--data-dir', dataDir, '--config', config, '--recreate-store']);
    expect(recreated.code, recreated.stderr).toBe(0);
    expect(recreated.stdout.trim()).toBe(fp);
    const tok3 = tollgate(['token', 'create', '--spiffe-id', AGENT, '--data-dir', dataDir, '--config', config]);
    expect(tok3.code, tok3.stderr).toBe(0);
  }, 60_000);

  it('--recreate-store is accepted by serve and token create too', async () => {
    const { dataDir, config, db } = setup('flags');
    expect(tollgate(['ca', 'init', '--data-dir', dataDir, '--config', config]).code).toBe(0);
    removeDb(db);
    const tok = tollgate(['token', 'create', '--spiffe-id', AGENT, '--data-dir', dataDir, '--config', config, '--recreate-store']);
    expect(tok.code, tok.stderr).toBe(0);
    removeDb(db);
    const s = await serve(['--config', config, '--data-dir', dataDir, '--recreate-store']);
    expect(s.stdout()).toContain('Tollgate is running');
    expect(await s.stop()).toBe(0);
  }, 60_000);
});

describe('deleting the database while serving', () => {
  it('stops issuing and revoking, logs the file, sets tollgate_ca_store_lost; a restart is refused', async () => {
    const { dir, dataDir, config, db } = setup('running');
    const s = await serve(['--config', config, '--data-dir', dataDir]);
    const server = s.stdout().match(/control\s+(127\.0\.0\.1:\d+)/)![1];
    const metrics = s.stdout().match(/metrics\s+http:\/\/(127\.0\.0\.1:\d+)/)![1];
    const fp = s.stdout().match(/root\s+(sha256:[0-9a-f]{64})/)![1];
    const adminDir = path.join(dir, 'ops');
    const token = tollgate(['token', 'create', '--spiffe-id', ADMIN, '--data-dir', dataDir, '--config', config]).stdout.trim();
    const boot = tollgate(['bootstrap', '--server', server, '--token', token, '--fingerprint', fp, '--out', adminDir]);
    expect(boot.code, boot.stderr).toBe(0);
    const ctl = (args: string[]) => tollgate(['ctl', ...args, '--server', server, '--cert-dir', adminDir]);
    const spare = ctl(['token', 'create', '--spiffe-id', AGENT]);
    expect(spare.code).toBe(0);

    removeDb(db);
    // an error line of the JSON application log, naming the file
    await s.waitFor(new RegExp(`"level":50,.*CA database ${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*"msg":"CA database lost`), 10_000);
    const metric = await (await fetch(`http://${metrics}/metrics`)).text();
    expect(metric).toMatch(/^tollgate_ca_store_lost 1$/m);

    const refused = ctl(['token', 'create', '--spiffe-id', AGENT]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/CA store is unavailable/);
    const revoke = ctl(['revoke', '--spiffe-id', AGENT]);
    expect(revoke.code).toBe(1);
    expect(revoke.stderr).toMatch(/CA store is unavailable/);
    // an agent bootstrapping now is told the CA answered and cannot issue, not sent to check its network
    const agentBoot = tollgate(['bootstrap', '--server', server, '--token', spare.stdout.trim(), '--fingerprint', fp, '--out', path.join(dir, 'agent')]);
    expect(agentBoot.code).toBe(1);
    expect(agentBoot.stderr).toMatch(/answered.*CA store is unavailable/);
    expect(agentBoot.stderr).not.toMatch(/cannot reach|check the address/);
    expect(fs.existsSync(db)).toBe(false);

    s.child.kill('SIGKILL');
    await s.stop('SIGKILL');
    const restart = await serve(['--config', config, '--data-dir', dataDir]);
    expect(await exited(restart)).toBe(1);
    expectRefusal(restart.stderr(), dataDir);
  }, 60_000);
});
