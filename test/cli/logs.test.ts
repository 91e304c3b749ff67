/**
 * The application log of a real `tollgate serve` process: pino JSON lines on stderr (or readable lines with
 * --log-format pretty), filtered by --log-level, naming who did what: certificates issued, admin changes and
 * revocations with the admin's identity, upstream failures with caller, callee, root task and call ids. The
 * audit line of the same call carries those ids, so it joins the call tree `tollgate graph --task` shows.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrap } from '../../agent-bootstrap/index.js';
import { runCtl } from '../../cli/ctl/index.js';
import { prettyLine } from '../../cli/log.js';
import { messageSend, mtlsClient } from '../fakes/mtls-client.js';
import { freePort, waitFor } from '../fakes/wait.js';
import { ensureBuilt, start, tollgate, type Running } from './run.js';

const TD = 'logs.test';
const ID = (p: string) => `spiffe://${TD}/${p}`;
const running: Running[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const r of running) await r.stop('SIGTERM');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Served {
  serve: Running;
  dir: string;
  dataDir: string;
  control: string;
  metrics: string;
  proxy: string;
  fp: string;
  audit: string;
  /** an identity bootstrapped from a join token, written as `tollgate bootstrap --out` does */
  enroll(spiffeId: string): Promise<{ dir: string; keyPem: string; certChainPem: string; bundlePem: string }>;
}

async function serve(args: string[]): Promise<Served> {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-logs-'));
  dirs.push(dir);
  const dataDir = path.join(dir, 'data');
  const audit = path.join(dir, 'audit.log');
  const dead = await freePort(); // nothing listens here: calls to the writer fail with "connection refused"
  const config = path.join(dir, 'tollgate.yaml');
  fs.writeFileSync(
    config,
    `trustDomain: ${TD}
listen: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }
admins: [${ID('admin/ops')}]
audit: { path: ${audit} }
agents:
  writer: { url: "https://127.0.0.1:${dead}", id: ${ID('agent/writer')} }
policy:
  - { from: ${ID('user/alice')}, to: [writer] }
`,
  );
  const s = start(['serve', '--config', config, '--data-dir', dataDir, ...args]);
  running.push(s);
  const control = (await s.waitFor(/control\s+(127\.0\.0\.1:\d+)/))[1];
  const metrics = (await s.waitFor(/metrics\s+http:\/\/(127\.0\.0\.1:\d+)/))[1];
  const proxy = (await s.waitFor(/proxy\s+https:\/\/(127\.0\.0\.1:\d+)/))[1];
  const fp = (await s.waitFor(/root\s+(sha256:[0-9a-f]{64})/))[1];
  await s.waitFor(/npm run demo.*\n/);
  return {
    serve: s,
    dir,
    dataDir,
    control,
    metrics,
    proxy,
    fp,
    audit,
    async enroll(spiffeId) {
      const t = tollgate(['token', 'create', '--spiffe-id', spiffeId, '--data-dir', dataDir]);
      expect(t.code, t.stderr).toBe(0);
      const out = fs.mkdtempSync(path.join(dir, 'id-'));
      const m = await bootstrap({ server: control, token: t.stdout.trim(), fingerprint: fp, outDir: out });
      return { dir: out, ...m };
    },
  };
}

/** stderr's JSON lines (Node's own warnings, if any, are not ours and not JSON) */
function jsonLines(s: Running): Record<string, unknown>[] {
  return s
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function logLine(s: Running, match: (l: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
  return waitFor(
    what,
    () => Promise.resolve(jsonLines(s).find(match)),
    15_000,
    () => s.stderr(),
  );
}

async function ctl(args: string[], server: string, certDir: string): Promise<string> {
  let out = '';
  const code = await runCtl([...args, '--server', server, '--cert-dir', certDir], {
    stdout: (t) => void (out += t),
    stderr: (t) => void (out += t),
  });
  expect(code, out).toBe(0);
  return out;
}

describe('tollgate serve application logs', () => {
  it('JSON lines with level, time and msg, naming identities; the audit line joins the call tree', { timeout: 60_000 }, async () => {
    const s = await serve(['--log-format', 'json']);

    // issuance: whose certificate, which serial, until when
    const alice = await s.enroll(ID('user/alice'));
    const issued = await logLine(s.serve, (l) => l.msg === `certificate issued to ${ID('user/alice')} (bootstrap)`, 'the issuance line');
    // pino JSON: level (number), time (epoch ms), msg, pid
    expect(issued).toMatchObject({
      level: 30,
      time: expect.any(Number),
      pid: s.serve.child.pid,
      spiffeId: ID('user/alice'),
      via: 'bootstrap',
      serial: expect.stringMatching(/^[0-9a-f]+$/),
    });

    // an admin change and a revocation, with the admin who made them
    const admin = await s.enroll(ID('admin/ops'));
    await ctl(['agents', 'put', 'researcher', '--url', 'https://127.0.0.1:1', '--id', ID('agent/researcher')], s.control, admin.dir);
    const change = await logLine(s.serve, (l) => String(l.msg).startsWith('admin: agent researcher registered'), 'the admin change line');
    expect(change).toMatchObject({ level: 30, event: 'config', actor: ID('admin/ops'), agent: 'researcher' });
    const victim = await s.enroll(ID('user/mallory'));
    expect(victim.certChainPem).toContain('BEGIN CERTIFICATE');
    await ctl(['revoke', '--spiffe-id', ID('user/mallory')], s.control, admin.dir);
    const revoked = await logLine(s.serve, (l) => String(l.msg).startsWith(`admin: identity ${ID('user/mallory')} revoked`), 'the revocation line');
    expect(revoked).toMatchObject({ event: 'revocation', actor: ID('admin/ops'), data: { spiffeId: ID('user/mallory'), certificates: 1 } });

    // an upstream failure: who called whom, the status, why, and the task and call
    const client = mtlsClient(alice, alice.bundlePem);
    try {
      const res = await client.fetch(`https://${s.proxy}/a2a/writer/`, messageSend(7));
      expect(res.status).toBe(502);
    } finally {
      await client.close();
    }
    const failure = await logLine(s.serve, (l) => String(l.msg).startsWith('upstream failure:'), 'the upstream failure line');
    expect(failure).toMatchObject({
      level: 40,
      caller: ID('user/alice'),
      callee: 'writer',
      calleeId: ID('agent/writer'),
      method: 'SendMessage',
      status: 502,
      upstreamError: 'refused',
      rootTaskId: expect.any(String),
      callId: expect.any(String),
    });

    // the audit line of that call carries the same ids, and they are the tree's (`tollgate graph --task`)
    const auditLine = await waitFor(
      'the audit line',
      () =>
        Promise.resolve(
          fs.existsSync(s.audit)
            ? fs
                .readFileSync(s.audit, 'utf8')
                .split('\n')
                .filter(Boolean)
                .map((l) => JSON.parse(l) as Record<string, unknown>)
                .find((l) => l.callee === 'writer')
            : undefined,
        ),
      15_000,
    );
    expect(auditLine).toMatchObject({ status: 502, decision: 'error', reason: 'refused', rootTaskId: failure.rootTaskId, callId: failure.callId });
    const tree = tollgate(['graph', '--server', s.metrics, '--task', String(failure.rootTaskId), '--json']);
    expect(tree.code, tree.stderr).toBe(0);
    const t = JSON.parse(tree.stdout) as { rootTaskId: string; calls: { id: string; status: number; outcome: string; error: string }[] };
    expect(t.rootTaskId).toBe(failure.rootTaskId);
    expect(t.calls).toEqual([expect.objectContaining({ id: failure.callId, status: 502, outcome: 'error', error: 'refused' })]);
    const text = tollgate(['graph', '--server', s.metrics, '--task', String(failure.rootTaskId)]);
    expect(text.stdout).toContain('alice -> writer  SendMessage  502  FAILED refused');

    // the lifecycle lines are log lines too, down to the last one
    expect(await s.serve.stop('SIGTERM')).toBe(0);
    expect(jsonLines(s.serve).at(-1)).toMatchObject({ level: 30, msg: 'stopped' });
    expect(jsonLines(s.serve).some((l) => l.msg === 'SIGTERM received, shutting down (up to 10000 ms for in-flight calls)')).toBe(true);
  });

  it('--log-level warn leaves out info lines; --log-format pretty writes readable lines', async () => {
    const s = await serve(['--log-level', 'warn', '--log-format', 'pretty']);
    const alice = await s.enroll(ID('user/alice'));
    const client = mtlsClient(alice, alice.bundlePem);
    try {
      expect((await client.fetch(`https://${s.proxy}/a2a/writer/`, messageSend(1))).status).toBe(502);
    } finally {
      await client.close();
    }
    const line = (await s.serve.waitFor(/^.* WARN {2}upstream failure: .*$/m))[0];
    expect(line).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z WARN {2}upstream failure: spiffe:\/\/logs\.test\/user\/alice -> writer SendMessage answered 502 \(refused\) /,
    );
    expect(line).toContain(' upstreamError=refused ');
    expect(line).toMatch(/ rootTaskId=\S+ callId=\S+/);
    expect(s.serve.stderr()).not.toContain('certificate issued');
    expect(s.serve.stderr()).not.toMatch(/^\{/m);
  });

  it('refuses an unknown level or format, naming the choices', () => {
    const bad = tollgate(['serve', '--log-format', 'xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--log-format "xml": expected json or pretty');
    const level = tollgate(['serve', '--log-level', 'loud']);
    expect(level.code).toBe(2);
    expect(level.stderr).toContain('--log-level "loud": expected one of trace, debug, info, warn, error, fatal, silent');
  });

  it('prettyLine: time, level, message, the error and the other fields', () => {
    const line = prettyLine(
      JSON.stringify({ level: 50, time: Date.UTC(2026, 0, 2, 3, 4, 5), msg: 'store unreachable', err: { message: 'ECONNREFUSED' }, store: 'pg' }),
    );
    expect(line).toBe('2026-01-02T03:04:05.000Z ERROR store unreachable (ECONNREFUSED) store=pg');
    expect(prettyLine('not json\n')).toBe('not json');
  });
});
