import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startE2e, baseConfig, id, type E2e } from './harness.js';
import { startStandInUpstream, handlers, type StandInUpstream } from '../fakes/upstream.js';
import { mtlsClient, type MtlsClient } from '../fakes/mtls-client.js';
import { freePort, waitFor as waitForValue } from '../fakes/wait.js';
import { alertsFile, prometheusBin, readYaml, runTool, scrapeConfigFile } from '../deploy/tools.js';
import { run as tollgateCli } from '../../cli/main.js';
import { runCtl } from '../../cli/ctl/index.js';

/**
 * The runaway-delegation story end to end through the composed gateway: user -> orchestrator ->
 * researcher -> orchestrator. Each hop presents the delegation context the gateway handed it (as
 * agent-bootstrap does); the gateway cuts the revisit with 508, `tollgate graph --task` names the initiator
 * and the closing edge, and a real Prometheus running the shipped scrape config and alert rules fires
 * TollgateDelegationLoopDetected.
 */
let e: E2e;
const upstreams: Record<string, StandInUpstream> = {};
const clients: Record<string, MtlsClient> = {};
let prom: ChildProcess | undefined;
let promUrl = '';
let promLog = '';

const body = (rpcId: number) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: rpcId,
    method: 'message/send',
    params: { message: { kind: 'message', role: 'user', messageId: `m${rpcId}`, parts: [{ kind: 'text', text: 'go' }] } },
  });

async function call(from: string, to: string, rpcId: number, delegation?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (delegation) headers['tollgate-delegation'] = delegation;
  const res = await clients[from].fetch(`${e.proxyUrl}/a2a/${to}/`, { method: 'POST', headers, body: body(rpcId) });
  return { status: res.status, json: (await res.json()) as { id: number; error?: { code: number; message: string; data?: Record<string, unknown> } } };
}

/** the context the gateway sent with the last request the agent received */
const lastContext = (agent: string) => upstreams[agent].requests.at(-1)!.headers['tollgate-delegation'] as string;

const waitFor = <T>(what: string, check: () => Promise<T | undefined>) => waitForValue(what, check, 30_000, () => promLog.slice(-2000));

beforeAll(async () => {
  runTool(prometheusBin, ['--version']); // fails with "install the Debian package prometheus" when missing
  e = await startE2e(baseConfig());
  for (const name of ['orchestrator', 'researcher']) {
    const m = await e.enroll(id(`agent/${name}`));
    upstreams[name] = await startStandInUpstream({ ...m, handler: handlers.jsonRpcOk() });
    clients[name] = mtlsClient(m, m.bundlePem);
  }
  const alice = await e.enroll(id('user/alice'));
  clients.alice = mtlsClient(alice, alice.bundlePem);
  // registry and policy in the config file, applied with a reload (what SIGHUP does)
  fs.appendFileSync(
    e.configPath,
    `agents:
  orchestrator: { url: ${upstreams.orchestrator.url}, id: ${id('agent/orchestrator')} }
  researcher: { url: ${upstreams.researcher.url}, id: ${id('agent/researcher')}, requireDelegationContext: true }
policy:
  - { from: ${id('user/*')}, to: [orchestrator, researcher] }
  - { from: ${id('agent/orchestrator')}, to: [researcher] }
  - { from: ${id('agent/researcher')}, to: [orchestrator] }
`,
  );
  await e.tg.reload();

  // a real Prometheus with the shipped scrape config and alert rules, pointed at this gateway
  const config = readYaml(scrapeConfigFile) as {
    global: Record<string, string>;
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  Object.assign(config.global, { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' });
  config.scrape_configs.find((j) => j.job_name === 'tollgate')!.static_configs = [{ targets: [`127.0.0.1:${e.tg.ports.metrics}`] }];
  fs.writeFileSync(path.join(e.dir, 'prometheus.yml'), stringify(config));
  fs.copyFileSync(alertsFile, path.join(e.dir, 'alerts.yml'));
  const webPort = await freePort();
  promUrl = `http://127.0.0.1:${webPort}`;
  prom = spawn(
    prometheusBin,
    [
      `--config.file=${path.join(e.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(e.dir, 'prom')}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
      '--log.level=warn',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  prom.stdout!.on('data', (d: Buffer) => (promLog += d.toString()));
  prom.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
  await waitFor('Prometheus ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined));
}, 60_000);

afterAll(async () => {
  if (prom && prom.exitCode === null) {
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    await exited;
  }
  for (const c of Object.values(clients)) await c.close();
  for (const u of Object.values(upstreams)) await u.close();
  await e?.close();
});

/** The value of one series on the gateway's /metrics registry (0 when absent). */
async function series(name: string): Promise<number> {
  for (const line of (await e.tg.metrics.text()).split('\n')) if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1));
  return 0;
}

/**
 * One runaway task of its own: alice -> orchestrator -> researcher -> orchestrator (cut). Every test that needs a
 * loop, a root task id or a context of a task makes its own with this, so no test reads another's leftovers.
 */
async function runLoop(rpcBase: number) {
  expect((await call('alice', 'orchestrator', rpcBase)).status).toBe(200);
  const orchestratorContext = lastContext('orchestrator');
  const toResearcher = await call('orchestrator', 'researcher', rpcBase + 1, orchestratorContext);
  expect(toResearcher.status).toBe(200);
  const orchestratorCalls = upstreams.orchestrator.requests.length;
  const back = await call('researcher', 'orchestrator', rpcBase + 2, lastContext('researcher'));
  return { back, rootTaskId: String(back.json.error?.data?.rootTaskId), orchestratorContext, orchestratorCalls, rpcId: rpcBase + 2 };
}

describe('a delegation loop through the gateway', () => {
  it('is cut at the first revisit with 508 naming the cycle; the callee never sees it', async () => {
    const loopsBefore = await series('tollgate_loops_cut_total{caller="researcher",callee="orchestrator"}');
    const { back, orchestratorCalls, rpcId } = await runLoop(100);
    expect(back.status).toBe(508);
    expect(back.json.id).toBe(rpcId);
    const data = back.json.error!.data!;
    expect(back.json.error!.message).toContain('orchestrator -> researcher -> orchestrator');
    expect(upstreams.orchestrator.requests.length).toBe(orchestratorCalls);
    expect(data.closingEdge).toEqual({ from: id('agent/researcher'), to: id('agent/orchestrator') });
    expect(data.initiator).toBe(id('user/alice'));
    expect(await series('tollgate_loops_cut_total{caller="researcher",callee="orchestrator"}')).toBe(loopsBefore + 1);
  });

  it('requireDelegationContext: a call the policy allows is refused without a context (403 context_required), allowed with a valid one; a borrowed one is refused', async () => {
    // the researcher is configured with requireDelegationContext: its own calls must carry a context
    const required = 'tollgate_delegation_refusals_total{caller="researcher",callee="orchestrator",reason="context_required"}';
    const refusedBefore = await series(required);
    const seenBefore = upstreams.orchestrator.requests.length;
    // researcher -> orchestrator is allowed by policy; only the missing context stands in the way
    const none = await call('researcher', 'orchestrator', 200);
    expect(none.status).toBe(403);
    expect(none.json.id).toBe(200);
    expect(none.json.error).toMatchObject({ code: -32107, data: { reason: 'context_required' } });
    expect(none.json.error!.message).toContain('requireDelegationContext');
    expect(await series(required)).toBe(refusedBefore + 1);
    expect(upstreams.orchestrator.requests.length).toBe(seenBefore);

    // the same call with the context the gateway gave the researcher in a task of its own (alice -> researcher) is forwarded
    expect((await call('alice', 'researcher', 201)).status).toBe(200);
    const researcherContext = lastContext('researcher');
    const allowed = await call('researcher', 'orchestrator', 202, researcherContext);
    expect(allowed.status).toBe(200);
    expect(upstreams.orchestrator.requests.length).toBe(seenBefore + 1);
    expect(await series(required)).toBe(refusedBefore + 1);

    // the researcher's context presented by the orchestrator (a call the policy allows): issued to someone else
    const before = upstreams.researcher.requests.length;
    const borrowed = await call('orchestrator', 'researcher', 203, researcherContext);
    expect(borrowed.status).toBe(403);
    expect(borrowed.json.error!.data).toMatchObject({ reason: 'context_not_yours' });
    expect(upstreams.researcher.requests.length).toBe(before);
  });

  it('`tollgate graph --task` names the initiator and the edge that closed the cycle', async () => {
    const { back, rootTaskId } = await runLoop(300);
    expect(back.status).toBe(508);
    const out: string[] = [];
    const code = await tollgateCli(['graph', '--server', `127.0.0.1:${e.tg.ports.metrics}`, '--task', rootTaskId], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    });
    const text = out.join('\n');
    expect(code, text).toBe(0);
    expect(text).toContain('initiator: alice');
    expect(text).toMatch(/researcher -> orchestrator.*REFUSED loop \(closing edge, cut\)/);
  });

  it('the kill switch: after `tollgate ctl task cancel`, every later call in that task is refused (409)', async () => {
    const adminDir = e.certDir(await e.enroll(id('admin/ops')));
    // a task of its own, and a context of it as the orchestrator received it, still valid
    const { rootTaskId, orchestratorContext: context } = await runLoop(400);
    const before = upstreams.researcher.requests.length;
    let out = '';
    const code = await runCtl(['task', 'cancel', rootTaskId, '--server', e.control, '--cert-dir', adminDir], {
      stdout: (t) => void (out += t),
      stderr: (t) => void (out += t),
    });
    expect(code, out).toBe(0);
    const after = await call('orchestrator', 'researcher', 410, context);
    expect(after.status).toBe(409);
    expect(after.json.error!.data).toMatchObject({ reason: 'context_cancelled' });
    expect(upstreams.researcher.requests.length).toBe(before);
    // a new task is not affected
    expect((await call('alice', 'orchestrator', 411)).status).toBe(200);
  });

  it('Prometheus (shipped scrape config + alert rules) fires TollgateDelegationLoopDetected', async () => {
    expect((await runLoop(500)).back.status).toBe(508); // a loop of its own for the alert
    const alert = await waitFor('the loop alert to fire', async () => {
      const res = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      return res.data.alerts.find((a) => a.labels.alertname === 'TollgateDelegationLoopDetected' && a.state === 'firing');
    });
    expect(alert.labels).toMatchObject({ caller: 'researcher', callee: 'orchestrator', job: 'tollgate' });
  });
});
