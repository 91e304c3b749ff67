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
  JSON.stringify({ jsonrpc: '2.0', id: rpcId, method: 'message/send', params: { message: { kind: 'message', role: 'user', messageId: `m${rpcId}`, parts: [{ kind: 'text', text: 'go' }] } } });

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
  - { from: ${id('user/*')}, to: [orchestrator] }
  - { from: ${id('agent/orchestrator')}, to: [researcher] }
  - { from: ${id('agent/researcher')}, to: [orchestrator] }
`,
  );
  e.tg.reload();

  // a real Prometheus with the shipped scrape config and alert rules, pointed at this gateway
  const config = readYaml<{ global: Record<string, string>; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] }>(scrapeConfigFile);
  Object.assign(config.global, { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' });
  config.scrape_configs.find((j) => j.job_name === 'tollgate')!.static_configs = [{ targets: [`127.0.0.1:${e.tg.ports.metrics}`] }];
  fs.writeFileSync(path.join(e.dir, 'prometheus.yml'), stringify(config));
  fs.copyFileSync(alertsFile, path.join(e.dir, 'alerts.yml'));
  const webPort = await freePort();
  promUrl = `http://127.0.0.1:${webPort}`;
  prom = spawn(prometheusBin, [`--config.file=${path.join(e.dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(e.dir, 'prom')}`, `--web.listen-address=127.0.0.1:${webPort}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  prom.stdout!.on('data', (d: Buffer) => (promLog += d));
  prom.stderr!.on('data', (d: Buffer) => (promLog += d));
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

describe('a delegation loop through the gateway', () => {
  let rootTaskId = '';

  it('is cut at the first revisit with 508 naming the cycle; the callee never sees it', async () => {
    expect((await call('alice', 'orchestrator', 1)).status).toBe(200);
    const toResearcher = await call('orchestrator', 'researcher', 2, lastContext('orchestrator'));
    expect(toResearcher.status).toBe(200);
    const orchestratorCalls = upstreams.orchestrator.requests.length;

    const back = await call('researcher', 'orchestrator', 3, lastContext('researcher'));
    expect(back.status).toBe(508);
    expect(back.json.id).toBe(3);
    const data = back.json.error!.data!;
    rootTaskId = String(data.rootTaskId);
    expect(back.json.error!.message).toContain('orchestrator -> researcher -> orchestrator');
    expect(upstreams.orchestrator.requests.length).toBe(orchestratorCalls);
    expect(data.closingEdge).toEqual({ from: id('agent/researcher'), to: id('agent/orchestrator') });
    expect(data.initiator).toBe(id('user/alice'));
  });

  it('a researcher call without the context it was given is refused (requireDelegationContext), and a borrowed one too', async () => {
    const none = await call('alice', 'researcher', 4);
    expect(none.status).toBe(403); // alice may not call the researcher at all
    const borrowed = await call('orchestrator', 'researcher', 5, lastContext('researcher'));
    expect(borrowed.status).toBe(403);
    expect(borrowed.json.error!.message).toMatch(/not issued to|issued to another|not yours|borrowed/i);
  });

  it('`tollgate graph --task` names the initiator and the edge that closed the cycle', async () => {
    const out: string[] = [];
    const code = await tollgateCli(['graph', '--server', `127.0.0.1:${e.tg.ports.metrics}`, '--task', rootTaskId], { out: (l) => out.push(l), err: (l) => out.push(l) });
    const text = out.join('\n');
    expect(code, text).toBe(0);
    expect(text).toContain('initiator: alice');
    expect(text).toMatch(/researcher -> orchestrator.*REFUSED loop \(closing edge, cut\)/);
  });

  it('the kill switch: after `tollgate ctl task cancel`, every later call in that task is refused (409)', async () => {
    const adminDir = e.certDir(await e.enroll(id('admin/ops')));
    // a context of the task, as the orchestrator received it, still valid
    const context = upstreams.orchestrator.requests[0].headers['tollgate-delegation'] as string;
    const before = upstreams.researcher.requests.length;
    let out = '';
    const code = await runCtl(['task', 'cancel', rootTaskId, '--server', e.control, '--cert-dir', adminDir], { stdout: (t) => void (out += t), stderr: (t) => void (out += t) });
    expect(code, out).toBe(0);
    const after = await call('orchestrator', 'researcher', 6, context);
    expect(after.status).toBe(409);
    expect(upstreams.researcher.requests.length).toBe(before);
    // a new task is not affected
    expect((await call('alice', 'orchestrator', 7)).status).toBe(200);
  });

  it('Prometheus (shipped scrape config + alert rules) fires TollgateDelegationLoopDetected', async () => {
    const alert = await waitFor('the loop alert to fire', async () => {
      const res = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      return res.data.alerts.find((a) => a.labels.alertname === 'TollgateDelegationLoopDetected' && a.state === 'firing');
    });
    expect(alert.labels).toMatchObject({ caller: 'researcher', callee: 'orchestrator', job: 'tollgate' });
  });
});
