// End to end: a real Prometheus runs deploy/prometheus/prometheus.yml + alerts.yml against the gateway's
// real metrics listener (proxy/metrics.ts + proxy/metrics-server.ts). Only the target address (a free
// port instead of 9464) and the intervals (1s, so the test takes seconds) differ from the example.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createMetrics, type GatewayMetrics } from '../../proxy/metrics.js';
import { startMetricsServer } from '../../proxy/metrics-server.js';
import { freePort, waitFor as waitForValue } from '../fakes/wait.js';
import { alertRules, alertsFile, prometheusBin, readYaml, runTool, scrapeConfigFile } from './tools.js';

interface ScrapeConfig {
  global: Record<string, string>;
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
}
interface ApiAlert {
  labels: Record<string, string>;
  state: string;
}

let metrics: GatewayMetrics;
let metricsServer: { port: number; close(): Promise<void> };
let prom: ChildProcess | undefined;
let promLog = '';
let promUrl = '';
let dir = '';

async function api<T>(pathAndQuery: string): Promise<T> {
  const res = await fetch(`${promUrl}/api/v1/${pathAndQuery}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus API ${pathAndQuery}: ${body.error}`);
  return body.data;
}

/** polls until check() returns a value; on timeout the error carries the last failure and Prometheus' log */
const waitFor = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000) =>
  waitForValue(what, check, timeoutMs, () => `prometheus log:\n${promLog.slice(-3000)}`);

async function firingAlerts(): Promise<ApiAlert[]> {
  const data = await api<{ alerts: ApiAlert[] }>('alerts');
  return data.alerts.filter((a) => a.state === 'firing');
}

beforeAll(async () => {
  runTool(prometheusBin, ['--version']); // throws "install the Debian package prometheus" when missing

  metrics = createMetrics();
  metrics.setGatewayCertNotAfter(() => Date.now() + 3600_000);
  metrics.setIntermediateCertNotAfter(Date.now() + 7 * 86400_000);
  metrics.requests.labels('orchestrator', 'researcher', 'message/send', '200').inc(10);
  // two limit kinds on one edge: exercises the many-to-one match of TollgateRateLimitSaturation
  metrics.requests.labels('orchestrator', 'researcher', 'message/send', '429').inc(4);
  metrics.rateLimited.labels('orchestrator', 'researcher', 'edge').inc(3);
  metrics.rateLimited.labels('orchestrator', 'researcher', 'caller').inc(1);
  metrics.denials.labels('external', 'orchestrator', 'policy').inc(2);
  metrics.delegationRefusals.labels('external', 'orchestrator', 'context_required').inc(1);
  metrics.upstreamErrors.labels('researcher', 'timeout').inc(1);
  metrics.callGraphCycles.set(0);
  metricsServer = await startMetricsServer({ listen: '127.0.0.1:0', metrics });

  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-prometheus-'));
  const config = readYaml(scrapeConfigFile) as ScrapeConfig;
  config.global.scrape_interval = '1s';
  config.global.scrape_timeout = '1s';
  config.global.evaluation_interval = '1s';
  const job = config.scrape_configs.find((j) => j.job_name === 'tollgate');
  if (!job) throw new Error('prometheus.yml has no job tollgate');
  job.static_configs = [{ targets: [`127.0.0.1:${metricsServer.port}`] }];
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
  fs.copyFileSync(alertsFile, path.join(dir, 'alerts.yml'));

  const webPort = await freePort();
  promUrl = `http://127.0.0.1:${webPort}`;
  prom = spawn(
    prometheusBin,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prom.stdout!.on('data', (d: Buffer) => (promLog += d.toString()));
  prom.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
  prom.on('exit', (code) => (promLog += `\n[prometheus exited with ${code}]`));
  await waitFor('Prometheus to be ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined));
});

afterAll(async () => {
  if (prom && prom.exitCode === null) {
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    const timer = setTimeout(() => prom!.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await metricsServer?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Prometheus with the example config', () => {
  it('scrapes the gateway metrics listener as job tollgate', async () => {
    const target = await waitFor('the tollgate target to be up', async () => {
      const data = await api<{ activeTargets: { labels: Record<string, string>; health: string; scrapeUrl: string; lastError: string }[] }>('targets');
      const t = data.activeTargets.find((x) => x.labels.job === 'tollgate');
      return t?.health === 'up' ? t : undefined;
    });
    expect(target.scrapeUrl).toBe(`http://127.0.0.1:${metricsServer.port}/metrics`);
    const result = await api<{ result: { value: [number, string] }[] }>(`query?query=${encodeURIComponent('sum(tollgate_requests_total{job="tollgate"})')}`);
    expect(Number(result.result[0]?.value[1])).toBe(14);
  });

  it('loads every alert rule and evaluates each without error on real gateway metrics', async () => {
    const expected = alertRules()
      .map((r) => r.alert)
      .sort();
    const rules = await waitFor('every rule to be evaluated', async () => {
      const data = await api<{ groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] }>('rules');
      const group = data.groups.find((g) => g.name === 'tollgate');
      return group && group.rules.every((r) => r.health !== 'unknown') ? group.rules : undefined;
    });
    expect(rules.map((r) => r.name).sort()).toEqual(expected);
    for (const r of rules) expect({ rule: r.name, health: r.health, error: r.lastError ?? '' }).toEqual({ rule: r.name, health: 'ok', error: '' });
  });

  it('stays quiet on a healthy gateway, then fires loop, task budget and CA alerts within seconds of the events', async () => {
    // rules have been evaluated (previous test); nothing is wrong yet
    expect(await firingAlerts()).toEqual([]);

    metrics.loopsCut.labels('researcher', 'orchestrator').inc(); // first cut on this edge: a brand-new series
    metrics.budgetExhausted.labels('task', 'calls').inc();
    metrics.caEvents().onSigningFailure?.(new Error('test: signing failed'));

    const instance = `127.0.0.1:${metricsServer.port}`;
    const firing = await waitFor('the three alerts to fire', async () => {
      const a = await firingAlerts();
      const names = new Set(a.map((x) => x.labels.alertname));
      return ['TollgateDelegationLoopDetected', 'TollgateTaskBudgetExhausted', 'TollgateCASigningFailures'].every((n) => names.has(n)) ? a : undefined;
    });
    const byName = (n: string) => firing.find((a) => a.labels.alertname === n)!.labels;
    expect(byName('TollgateDelegationLoopDetected')).toEqual({
      alertname: 'TollgateDelegationLoopDetected',
      severity: 'warning',
      job: 'tollgate',
      instance,
      caller: 'researcher',
      callee: 'orchestrator',
    });
    expect(byName('TollgateTaskBudgetExhausted')).toMatchObject({ severity: 'warning', job: 'tollgate', instance, budget: 'calls' });
    expect(byName('TollgateCASigningFailures')).toMatchObject({ severity: 'critical', job: 'tollgate', instance });
    expect(firing.map((a) => a.labels.alertname).sort()).toEqual([
      'TollgateCASigningFailures',
      'TollgateDelegationLoopDetected',
      'TollgateTaskBudgetExhausted',
    ]);
  });
});
