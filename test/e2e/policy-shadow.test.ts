import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, startStandIns, baseConfig, id, adminCtl, metricValue, type E2e, type StandIns } from './harness.js';
import { startTollgate, type Tollgate } from '../../gateway/tollgate.js';

/**
 * Shadow policy and explain through the composed gateway (what `tollgate serve` runs), over real sockets:
 * SDK-shaped JSON-RPC calls over mTLS, `tollgate ctl` over the admin API. The shadow rules are counted, never
 * enforced, until promoted; a second replica on the same store sees them and counts on its own.
 */
let e: E2e;
let adminDir: string;
let agents: StandIns;
const call = (from: string, to: string, rpcId: number, headers: Record<string, string> = {}, url = e.proxyUrl) => agents.call(from, to, rpcId, headers, url);
const lastContext = (agent: string) => agents.lastContext(agent);

const ctl = (args: string[], control = e.control) => adminCtl(args, control, adminDir);

const metric = (name: string, metricsUrl = e.metricsUrl) => metricValue(metricsUrl, name);

const WOULD_DENY = 'tollgate_policy_shadow_diff_total{caller="orchestrator",callee="writer",verdict="would_deny"}';
const WOULD_ALLOW = 'tollgate_policy_shadow_diff_total{caller="unknown",callee="orchestrator",verdict="would_allow"}';

function shadowFile(text: string): string {
  const p = path.join(e.dir, `shadow-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(p, text);
  return p;
}

beforeAll(async () => {
  e = await startE2e(baseConfig());
  agents = await startStandIns(e, ['orchestrator', 'writer'], ['alice', 'bob']);
  adminDir = e.certDir(await e.enroll(id('admin/ops')));
  fs.appendFileSync(
    e.configPath,
    `agents:
${agents.agentsYaml()}
policy:
  - { from: ${id('user/alice')}, to: [orchestrator] }
  - { from: ${id('agent/orchestrator')}, to: [writer] }
`,
  );
  await e.tg.reload();
}, 60_000);

afterAll(async () => {
  await agents?.close();
  await e?.close();
});

describe('ctl policy explain: the running config over the admin API', () => {
  it('answers allow (exit 0) and deny (exit 3) with the deciding rule; --json', async () => {
    const ok = await ctl(['policy', 'explain', '--from', id('agent/orchestrator'), '--to', 'writer']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`ALLOW  ${id('agent/orchestrator')} -> writer SendMessage: allowed by policy[1]`);
    const no = await ctl(['policy', 'explain', '--from', id('user/bob'), '--to', 'orchestrator', '--json']);
    expect(no.code).toBe(3);
    expect(JSON.parse(no.stdout)).toMatchObject({ allowed: false, reason: 'no_rule', decidedBy: 'no rule names the caller' });
    const bad = await ctl(['policy', 'explain', '--from', 'nobody', '--to', 'writer']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('nobody');
    const noShadow = await ctl(['policy', 'explain', '--from', id('user/bob'), '--to', 'orchestrator', '--shadow']);
    expect(noShadow.code).toBe(1);
    expect(noShadow.stderr).toContain('no shadow policy is set');
  });
});

describe('shadow policy: counted, not enforced, then promoted', () => {
  it('a shadow that would deny a live-allowed call: the call succeeds, the counter and the diff say would_deny', async () => {
    // the shadow: the orchestrator may call the writer only inside a task alice started; bob may call the orchestrator
    const set = await ctl([
      'policy',
      'set',
      '--shadow',
      '--file',
      shadowFile(`shadowPolicy:
  - { from: ${id('user/alice')}, to: [orchestrator] }
  - { from: ${id('user/bob')}, to: [orchestrator] }
  - { from: ${id('agent/orchestrator')}, to: [writer], chain: { initiator: ${id('user/alice')} } }
`),
    ]);
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain('shadow policy set: 3 rules');
    const get = await ctl(['policy', 'get', '--json']);
    expect(JSON.parse(get.stdout)).toMatchObject({ rules: [{}, {}], shadowPolicy: [{}, {}, { chain: { initiator: [id('user/alice')] } }] });

    const before = await metric(WOULD_DENY);
    // on its own: the policy allows it, the shadow's chain condition would not
    const alone = await call('orchestrator', 'writer', 1);
    expect(alone.status).toBe(200);
    expect(await metric(WOULD_DENY)).toBe(before + 1);
    // inside alice's task: both allow (the shadow read the verified chain), nothing counted
    expect((await call('alice', 'orchestrator', 2)).status).toBe(200);
    expect((await call('orchestrator', 'writer', 3, { 'tollgate-delegation': lastContext('orchestrator') })).status).toBe(200);
    expect(await metric(WOULD_DENY)).toBe(before + 1);

    // would_allow: bob is refused now; the shadow would let him in
    const bob = await call('bob', 'orchestrator', 4);
    expect(bob.status).toBe(403);
    expect(await metric(WOULD_ALLOW)).toBe(1);

    const diff = await ctl(['policy', 'diff', '--json']);
    const d = JSON.parse(diff.stdout) as {
      hasShadow: boolean;
      evaluated: number;
      counts: unknown[];
      recent: { verdict: string; callerId: string; shadow: string }[];
    };
    expect(d.hasShadow).toBe(true);
    expect(d.evaluated).toBe(4);
    expect(d.counts).toEqual(
      expect.arrayContaining([
        { caller: 'orchestrator', callee: 'writer', verdict: 'would_deny', count: 1 },
        { caller: 'unknown', callee: 'orchestrator', verdict: 'would_allow', count: 1 },
      ]),
    );
    expect(d.recent[0]).toMatchObject({ verdict: 'would_allow', callerId: id('user/bob'), active: 'no_rule', shadow: 'allowed' });
    expect(d.recent[1]).toMatchObject({ verdict: 'would_deny', callerId: id('agent/orchestrator'), active: 'allowed', shadow: 'chain_not_allowed' });
    const text = await ctl(['policy', 'diff']);
    expect(text.stdout).toMatch(/4 call\(s\) evaluated since .*, 2 decided differently/);
    expect(text.stdout).toMatch(/would_deny\s+orchestrator\s+writer\s+1/);

    // explain --shadow answers from the shadow rules
    const ex = await ctl(['policy', 'explain', '--shadow', '--from', id('agent/orchestrator'), '--to', 'writer']);
    expect(ex.code).toBe(3);
    expect(ex.stdout).toContain('(chain_not_allowed)');
  });

  it('promote makes the shadow the policy in one write: now denied (and bob allowed); the count starts again', async () => {
    const version = JSON.parse((await ctl(['policy', 'get', '--json'])).stdout).version as number;
    const p = await ctl(['policy', 'promote', '--version', String(version)]);
    expect(p.stderr).toBe('');
    expect(p.stdout).toContain(`shadow policy promoted: 3 rules enforced (policy version ${version + 1})`);
    const refused = await call('orchestrator', 'writer', 5);
    expect(refused.status).toBe(403);
    expect(refused.json.error!.data!.reason).toBe('chain_not_allowed');
    expect((await call('bob', 'orchestrator', 6)).status).toBe(200);
    const diff = JSON.parse((await ctl(['policy', 'diff', '--json'])).stdout) as { hasShadow: boolean; counts: unknown[] };
    expect(diff).toMatchObject({ hasShadow: false, counts: [] });
    expect(JSON.parse((await ctl(['policy', 'get', '--json'])).stdout).shadowPolicy).toBeUndefined();
    // nothing left to promote or clear
    const again = await ctl(['policy', 'promote']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no shadow policy is set');
    expect((await ctl(['policy', 'shadow', 'clear'])).code).toBe(1);
  });

  it('rules with a method that is not an A2A method are refused naming the field, the running config unchanged', async () => {
    const before = e.tg.config();
    const bad = await ctl([
      'policy',
      'set',
      '--shadow',
      '--file',
      shadowFile(`- { from: ${id('user/alice')}, to: [orchestrator], methods: [message/sned] }\n`),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('shadowPolicy[0].methods: "message/sned" is not an A2A method');
    expect(e.tg.config()).toBe(before);
  });

  it('shadow clear drops the shadow and keeps the policy', async () => {
    await ctl(['policy', 'set', '--shadow', '--file', shadowFile(`- { from: ${id('user/alice')}, to: [orchestrator] }\n`)]);
    expect(e.tg.config().shadowPolicy).toHaveLength(1);
    const policy = e.tg.config().policy;
    const c = await ctl(['policy', 'shadow', 'clear']);
    expect(c.stdout).toContain('shadow policy cleared');
    expect(e.tg.config().shadowPolicy).toBeUndefined();
    expect(e.tg.config().policy).toEqual(policy);
  });
});

describe('fleet: replicas on one store share the shadow policy', () => {
  let b: Tollgate;
  beforeAll(async () => {
    // a second replica on the same data dir (the same SQLite store) and config file
    b = await startTollgate({ configPath: e.configPath, dataDir: path.join(e.dir, 'data'), tickMs: 200 });
  }, 60_000);
  afterAll(async () => {
    await b?.close();
  });

  it('a shadow set through one replica is counted by the other, and promoted through it', async () => {
    const set = await ctl([
      'policy',
      'set',
      '--shadow',
      '--file',
      shadowFile(`- { from: ${id('user/alice')}, to: [orchestrator] }\n- { from: ${id('user/bob')}, to: [orchestrator], methods: [GetTask] }\n`),
    ]);
    expect(set.code).toBe(0);
    // replica b polls the store's versions (every 0.5 s) and applies the section
    const deadline = Date.now() + 10_000;
    while (b.config().shadowPolicy === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(b.config().shadowPolicy).toHaveLength(2);

    const bUrl = `https://127.0.0.1:${b.ports.proxy}`;
    const bMetrics = `http://127.0.0.1:${b.ports.metrics}`;
    const bobBefore = await metric('tollgate_policy_shadow_diff_total{caller="external",callee="orchestrator",verdict="would_deny"}', bMetrics);
    expect((await call('bob', 'orchestrator', 7, {}, bUrl)).status).toBe(200);
    expect(await metric('tollgate_policy_shadow_diff_total{caller="external",callee="orchestrator",verdict="would_deny"}', bMetrics)).toBe(bobBefore + 1);
    // counted where the call was made
    const fromB = JSON.parse((await ctl(['policy', 'diff', '--json'], `127.0.0.1:${b.ports.control}`)).stdout) as { counts: { verdict: string }[] };
    expect(fromB.counts).toEqual([{ caller: 'external', callee: 'orchestrator', verdict: 'would_deny', count: 1 }]);

    const p = await ctl(['policy', 'promote'], `127.0.0.1:${b.ports.control}`);
    expect(p.stderr).toBe('');
    const until = Date.now() + 10_000;
    while (e.tg.config().shadowPolicy !== undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    expect(e.tg.config().shadowPolicy).toBeUndefined();
    // replica a enforces the promoted rules: bob may only GetTask now
    expect((await call('bob', 'orchestrator', 8)).status).toBe(403);
  });
});
