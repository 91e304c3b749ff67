import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runCtl } from '../../cli/ctl/index.js';
import { newKeyAndCsr } from '../../agent-bootstrap/keys.js';
import { ADMIN_ID, AGENT_ID, TD, startGateway, tempDir, type Gateway } from './harness.js';

let gw: Gateway;
let adminDir: string;
let agentDir: string;
const dirs: string[] = [];

beforeAll(async () => {
  gw = await startGateway();
  adminDir = tempDir('tollgate-ctl-admin-');
  agentDir = tempDir('tollgate-ctl-agent-');
  dirs.push(adminDir, agentDir, gw.dataDir);
  // As an operator would: join token, then bootstrap writing key.pem / cert.pem / bundle.pem.
  await gw.enroll(ADMIN_ID, adminDir);
  await gw.enroll(AGENT_ID, agentDir);
});

afterAll(async () => {
  await gw?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function ctl(args: string[], opts: { certDir?: string; signal?: AbortSignal } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCtl([...args, '--server', gw.target, '--cert-dir', opts.certDir ?? adminDir], {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    signal: opts.signal ?? new AbortController().signal,
  });
  return { code, stdout, stderr };
}

function file(name: string, text: string): string {
  const dir = tempDir('tollgate-ctl-files-');
  dirs.push(dir);
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('tollgate ctl: help and usage', () => {
  it('prints help for ctl and for every verb', async () => {
    const out: string[] = [];
    expect(await runCtl(['--help'], { stdout: (t) => void out.push(t), stderr: () => {} })).toBe(0);
    for (const verb of [
      'token create',
      'agents list',
      'agents put',
      'agents remove',
      'policy get',
      'policy set',
      'policy explain',
      'policy diff',
      'policy promote',
      'policy shadow clear',
      'limits get',
      'limits set',
      'limits diff',
      'limits promote',
      'limits shadow clear',
      'settings reset',
      'revoke',
      'certs list',
      'graph',
      'task cancel',
      'watch',
    ]) {
      expect(out.join('')).toContain(verb);
      const help: string[] = [];
      expect(await runCtl([...verb.split(' '), '--help'], { stdout: (t) => void help.push(t), stderr: () => {} })).toBe(0);
      expect(help.join('')).toContain(`usage: tollgate ctl ${verb}`);
      expect(help.join('')).toContain('--cert-dir');
    }
  });

  it('exits 2 with a pointer for unknown commands, options and missing arguments', async () => {
    expect((await ctl(['frobnicate'])).code).toBe(2);
    const group = await ctl(['policy']);
    expect(group).toMatchObject({ code: 2 });
    expect(group.stderr).toContain('policy get, policy set');
    const badOpt = await ctl(['agents', 'list', '--colour']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.stderr).toContain('--help');
    expect((await ctl(['agents', 'remove'])).stderr).toContain('needs NAME');
    expect((await ctl(['revoke', '--spiffe-id', AGENT_ID, '--serial', 'aa'])).stderr).toContain('exactly one of');
    const saved = process.env.TOLLGATE_CERT_DIR;
    delete process.env.TOLLGATE_CERT_DIR;
    try {
      let err = '';
      expect(await runCtl(['agents', 'list'], { stdout: () => {}, stderr: (t) => void (err += t) })).toBe(2);
      expect(err).toContain('--cert-dir is required');
    } finally {
      if (saved !== undefined) process.env.TOLLGATE_CERT_DIR = saved;
    }
  });

  it('explains a missing identity directory', async () => {
    const r = await ctl(['agents', 'list'], { certDir: path.join(adminDir, 'nope') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('tollgate bootstrap');
  });
});

describe('tollgate ctl: operations end to end', () => {
  it('lists agents as a table and as JSON', async () => {
    const t = await ctl(['agents', 'list']);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^NAME\s+URL\s+SPIFFE ID/);
    expect(t.stdout).toContain(`writer      https://127.0.0.1:9002  ${AGENT_ID}`);
    const j = await ctl(['agents', 'list', '--json']);
    const doc = JSON.parse(j.stdout);
    expect(doc.version).toBe(0);
    expect(doc.agents.map((a: { name: string }) => a.name)).toEqual(['researcher', 'writer']);
  });

  it('puts and removes an agent, and explains a bad field', async () => {
    const bad = await ctl(['agents', 'put', 'mailer', '--url', 'http://127.0.0.1:9010', '--id', `spiffe://${TD}/agent/mailer`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('agents.mailer.url');
    expect(bad.stderr).toContain('Fix the value');
    const ok = await ctl([
      'agents',
      'put',
      'mailer',
      '--url',
      'https://127.0.0.1:9010',
      '--id',
      `spiffe://${TD}/agent/mailer`,
      '--calls-per-minute',
      '20',
      '--require-delegation-context',
    ]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toContain('agent mailer registered');
    expect(gw.config().agents.mailer).toMatchObject({ requireDelegationContext: true, limits: { callsPerMinute: 20 } });
    expect((await ctl(['agents', 'put', 'mailer', '--url', 'https://x', '--id', `spiffe://${TD}/agent/mailer`, '--calls-per-minute', 'lots'])).code).toBe(2);
    const rm = await ctl(['agents', 'remove', 'mailer']);
    expect(rm.code).toBe(0);
    expect(gw.config().agents.mailer).toBeUndefined();
    expect((await ctl(['agents', 'remove', 'mailer'])).code).toBe(1);
  });

  it('round-trips the policy through a YAML file and refuses a stale --version with a next step', async () => {
    const got = await ctl(['policy', 'get']);
    expect(got.code).toBe(0);
    const version = Number(/policy version (\d+)/.exec(got.stdout)![1]);
    const doc = parseYaml(got.stdout) as { policy: unknown[] };
    expect(doc.policy).toEqual([{ from: `spiffe://${TD}/agent/researcher`, to: ['writer'], methods: ['message/send'] }]);

    const rules = file(
      'rules.yaml',
      `policy:\n  - from: spiffe://${TD}/user/*\n    to: [writer]\n  - from: ${AGENT_ID}\n    to: "*"\n    methods: [message/send]\n`,
    );
    const set = await ctl(['policy', 'set', '--file', rules, '--version', String(version)]);
    expect(set).toMatchObject({ code: 0 });
    expect(set.stdout).toContain(`policy version ${version + 1}`);
    expect(gw.config().policy).toEqual([
      { from: `spiffe://${TD}/user/*`, to: ['writer'] },
      { from: AGENT_ID, to: '*', methods: ['message/send'] },
    ]);

    const stale = await ctl(['policy', 'set', '--file', rules, '--version', String(version)]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('tollgate ctl policy get');
    expect(stale.stderr).toContain('--version');

    // chain conditions and nonA2A survive get -> edit -> set, and a bad condition is named by the server
    const chainRules = file('chain.yaml', `- from: ${AGENT_ID}\n  to: [writer]\n  nonA2A: true\n  chain: { initiator: spiffe://${TD}/user/*, maxDepth: 2 }\n`);
    expect(await ctl(['policy', 'set', '--file', chainRules])).toMatchObject({ code: 0 });
    expect(gw.config().policy).toEqual([{ from: AGENT_ID, to: ['writer'], nonA2A: true, chain: { initiator: [`spiffe://${TD}/user/*`], maxDepth: 2 } }]);
    const back = parseYaml((await ctl(['policy', 'get'])).stdout) as { policy: unknown[] };
    expect(back.policy).toEqual([{ from: AGENT_ID, to: ['writer'], nonA2A: true, chain: { initiator: [`spiffe://${TD}/user/*`], maxDepth: 2 } }]);
    const badChain = await ctl(['policy', 'set', '--file', file('badchain.yaml', `- from: ${AGENT_ID}\n  to: [writer]\n  chain: { maxDepth: 0 }\n`)]);
    expect(badChain.code).toBe(1);
    expect(badChain.stderr).toContain('policy.0.chain.maxDepth');

    const unknownAgent = file('bad.yaml', `- from: ${AGENT_ID}\n  to: [ghost]\n`);
    const bad = await ctl(['policy', 'set', '--file', unknownAgent]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('policy.0.to.0');
    expect((await ctl(['policy', 'set', '--file', file('x.yaml', 'just: text')])).code).toBe(2);
  });

  it('resets saved sections to the config file with settings reset', async () => {
    const rules = file('reset.yaml', `- from: spiffe://${TD}/user/*\n  to: [writer]\n`);
    expect(await ctl(['policy', 'set', '--file', rules])).toMatchObject({ code: 0 });
    expect(gw.config().policy).toEqual([{ from: `spiffe://${TD}/user/*`, to: ['writer'] }]);

    const reset = await ctl(['settings', 'reset', '--policy']);
    expect(reset).toMatchObject({ code: 0 });
    expect(reset.stdout).toBe("policy reset: the config file's section applies again\n");
    const back = parseYaml((await ctl(['policy', 'get'])).stdout) as { policy: unknown[] };
    expect(back.policy).toEqual([{ from: `spiffe://${TD}/agent/researcher`, to: ['writer'], methods: ['message/send'] }]);

    const again = await ctl(['settings', 'reset', '--policy', '--limits', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ reset: [], versions: { policy: expect.any(Number) as number } });
    expect((await ctl(['settings', 'reset', '--policy'])).stdout).toBe('nothing to reset: policy already comes from the config file\n');
  });

  it('gets and sets limits', async () => {
    const got = await ctl(['limits', 'get', '--json']);
    const cur = JSON.parse(got.stdout);
    expect(cur.rateLimits).toEqual({ perCaller: { rps: 10, burst: 20 } });
    const human = await ctl(['limits', 'get']);
    expect(human.stdout).toContain('tokenTtl: 15m');
    const f = file('limits.yaml', 'rateLimits:\n  perEdge: { rps: 50, burst: 100 }\ndelegation:\n  maxDepth: 5\n  task: { deadline: 2m }\n');
    const set = await ctl(['limits', 'set', '--file', f, '--version', String(cur.version)]);
    expect(set).toMatchObject({ code: 0 });
    expect(gw.config().rateLimits).toEqual({ perEdge: { rps: 50, burst: 100 } });
    expect(gw.config().delegation.task.deadline).toBe(120_000);
  });

  it('creates join tokens, revokes, lists certificates', async () => {
    const tok = await ctl(['token', 'create', '--spiffe-id', `spiffe://${TD}/agent/fresh`, '--ttl', '2m', '--json']);
    expect(tok.code).toBe(0);
    const { token, spiffeId } = JSON.parse(tok.stdout);
    expect(spiffeId).toBe(`spiffe://${TD}/agent/fresh`);
    const plain = await ctl(['token', 'create', '--spiffe-id', `spiffe://${TD}/agent/fresh`]);
    expect(plain.stdout.trim()).toMatch(/^[A-Za-z0-9_-]+$/); // only the token on stdout, for scripts
    expect(plain.stderr).toContain('single use');

    const issued = await gw.authority.bootstrap(token, (await newKeyAndCsr()).csrDer); // the token works
    const list = await ctl(['certs', 'list', '--spiffe-id', `spiffe://${TD}/agent/fresh`]);
    expect(list.stdout).toMatch(
      new RegExp(`^SERIAL\\s+SPIFFE ID\\s+ISSUED\\s+EXPIRES\\s+STATUS\n${issued.serial}\\s+spiffe://tollgate\\.test/agent/fresh\\s+\\S+\\s+\\S+\\s+valid\n$`),
    );
    const rev = await ctl(['revoke', '--spiffe-id', `spiffe://${TD}/agent/fresh`, '--reason', 'test']);
    expect(rev).toMatchObject({ code: 0 });
    expect(rev.stdout).toContain('1 certificate');
    expect((await ctl(['certs', 'list', '--json'])).stdout).toContain('"revoked": true');
  });

  it("refuses a join token for the gateway's own identity (reserved namespace) with one clear message", async () => {
    const r = await ctl(['token', 'create', '--spiffe-id', `spiffe://${TD}/tollgate/gateway`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/refused: .*reserved for the gateway's own identity/);
    expect(r.stderr).toContain(`spiffe://${TD}/tollgate/`);
  });

  it('prints the call graph and cancels tasks', async () => {
    expect(JSON.parse((await ctl(['graph'])).stdout)).toEqual({ edges: [{ from: 'researcher', to: 'writer', calls: 3 }] });
    expect((await ctl(['graph', '--task', 't-1', '--dot'])).stdout).toMatch(/^digraph/);
    const missing = await ctl(['graph', '--task', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no task nope');
    expect((await ctl(['task', 'cancel', 't-1'])).code).toBe(0);
    expect(gw.cancelled.at(-1)).toEqual({ taskId: 't-1', actor: ADMIN_ID });
    const none = await ctl(['task', 'cancel', 't-404']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no running root task t-404');
  });

  it('watches events with filters until --count', async () => {
    await expect.poll(() => gw.events.subscribers).toBe(0);
    const watching = ctl(['watch', '--kind', 'config', '--agent', 'mailer', '--count', '1', '--json']);
    await expect.poll(() => gw.events.subscribers).toBe(1);
    gw.events.publish({ time: Date.now(), kind: 'call', actor: AGENT_ID, agent: 'mailer', summary: 'not a config event' });
    expect((await ctl(['agents', 'put', 'mailer', '--url', 'https://127.0.0.1:9010', '--id', `spiffe://${TD}/agent/mailer`])).code).toBe(0);
    const r = await watching;
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ kind: 'config', actor: ADMIN_ID, agent: 'mailer' });
  });

  it('stops watching on abort', async () => {
    await expect.poll(() => gw.events.subscribers).toBe(0); // the previous watcher is gone
    const ac = new AbortController();
    const watching = ctl(['watch'], { signal: ac.signal });
    await expect.poll(() => gw.events.subscribers).toBe(1);
    ac.abort();
    expect((await watching).code).toBe(0);
    await expect.poll(() => gw.events.subscribers).toBe(0);
  });
});

describe('tollgate ctl: errors that say what to do next', () => {
  it('tells a non-admin identity to add itself to admins:', async () => {
    const r = await ctl(['agents', 'list'], { certDir: agentDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`this identity is not an admin: add ${AGENT_ID} to admins: in the config`);
  });

  it('says where to look when the gateway is unreachable', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    let stderr = '';
    const code = await runCtl(['agents', 'list', '--server', `127.0.0.1:${port}`, '--cert-dir', adminDir, '--timeout', '5s'], {
      stdout: () => {},
      stderr: (t) => void (stderr += t),
      signal: new AbortController().signal,
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot reach the gateway's control listener at 127.0.0.1:${port}`);
    expect(stderr).toContain('tollgate serve');
  });
});
