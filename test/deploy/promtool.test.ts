// deploy/prometheus: the alert rules, their promtool unit tests and the scrape config example are
// checked with the real promtool (Debian package `prometheus`; missing promtool fails, never skips).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  alertRules,
  alertsFile,
  alertsTestFile,
  promtoolBin,
  readYaml,
  repoRoot,
  ruleCount,
  runTool,
  scrapeConfigFile,
  type RuleFile,
  type RuleTestFile,
} from './tools.js';

const rel = (file: string) => path.relative(repoRoot, file);

// The alerts operators were promised (deploy task); removing or renaming one must fail here.
const REQUIRED_ALERTS = [
  'TollgateDelegationLoopDetected',
  'TollgateRefusalSpike',
  'TollgateTaskBudgetExhausted',
  'TollgateAgentBudgetExhausted',
  'TollgateCallGraphCycle',
  'TollgateGatewayCertExpiringSoon',
  'TollgateIntermediateExpiringSoon',
  'TollgateCASigningFailures',
  'TollgateCAStoreLost',
  'TollgateStoreDown',
  'TollgateGovernanceBackendDown',
  'TollgateUpstreamErrorRate',
  'TollgateRateLimitSaturation',
  'TollgateDown',
];

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** alerts.yml with one rule changed, next to a copy of alerts.test.yml, in a temp dir */
function mutatedCopy(alert: string, change: (rule: Record<string, unknown>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-promtool-'));
  tmpDirs.push(dir);
  const rules = readYaml(alertsFile) as RuleFile;
  const rule = rules.groups.flatMap((g) => g.rules).find((r) => 'alert' in r && r.alert === alert);
  if (!rule) throw new Error(`no alert ${alert} in alerts.yml`);
  change(rule as unknown as Record<string, unknown>);
  fs.writeFileSync(path.join(dir, 'alerts.yml'), stringify(rules));
  fs.copyFileSync(alertsTestFile, path.join(dir, 'alerts.test.yml'));
  return dir;
}

describe('promtool', () => {
  it('is installed (Debian package `prometheus`)', () => {
    const r = runTool(promtoolBin, ['--version']);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/promtool, version \d+\.\d+/);
  });

  it('check rules: alerts.yml is valid', () => {
    const r = runTool(promtoolBin, ['check', 'rules', rel(alertsFile)]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(`Checking ${rel(alertsFile)}`);
    expect(r.output).toContain(`SUCCESS: ${ruleCount()} rules found`);
    expect(r.output).not.toMatch(/FAILED|duplicate/i);
  });

  it('check config: prometheus.yml is valid and loads alerts.yml', () => {
    const r = runTool(promtoolBin, ['check', 'config', rel(scrapeConfigFile)]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS: 1 rule files found');
    expect(r.output).toContain(`SUCCESS: ${rel(scrapeConfigFile)} is valid prometheus config file syntax`);
    expect(r.output).toContain(`Checking ${rel(alertsFile)}`);
    expect(r.output).toContain(`SUCCESS: ${ruleCount()} rules found`);
  });

  it('test rules: every unit test in alerts.test.yml passes', () => {
    const r = runTool(promtoolBin, ['test', 'rules', rel(alertsTestFile)]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(`Unit Testing:  ${rel(alertsTestFile)}`);
    expect(r.output).toMatch(/^\s+SUCCESS\s*$/m);
    expect(r.output).not.toContain('FAILED');
  });

  it('test rules: the unit tests catch a broken expression', () => {
    const dir = mutatedCopy('TollgateDelegationLoopDetected', (rule) => {
      rule.expr = 'sum by (job, instance, caller, callee) (increase(tollgate_loops_cut_total[5m])) > 1000';
    });
    const r = runTool(promtoolBin, ['test', 'rules', 'alerts.test.yml'], dir);
    expect(r.status, r.output).toBe(1);
    expect(r.output).toContain('FAILED');
    expect(r.output).toContain('alertname: TollgateDelegationLoopDetected');
  });

  it('test rules: the unit tests compare annotations and labels, not just names', () => {
    const dir = mutatedCopy('TollgateDown', (rule) => {
      (rule.annotations as Record<string, string>).summary = 'Tollgate {{ $labels.instance }} is sad';
    });
    const r = runTool(promtoolBin, ['test', 'rules', 'alerts.test.yml'], dir);
    expect(r.status, r.output).toBe(1);
    expect(r.output).toContain('alertname: TollgateDown');

    const dir2 = mutatedCopy('TollgateCASigningFailures', (rule) => {
      (rule.labels as Record<string, string>).severity = 'warning';
    });
    const r2 = runTool(promtoolBin, ['test', 'rules', 'alerts.test.yml'], dir2);
    expect(r2.status, r2.output).toBe(1);
    expect(r2.output).toContain('alertname: TollgateCASigningFailures');
  });
});

describe('alerts.yml', () => {
  const rules = alertRules();

  it('has exactly the required alerts, once each, in group `tollgate`', () => {
    const file = readYaml(alertsFile) as RuleFile;
    expect(file.groups.map((g) => g.name)).toEqual(['tollgate']);
    expect([...rules.map((r) => r.alert)].sort()).toEqual([...REQUIRED_ALERTS].sort());
  });

  it.each(REQUIRED_ALERTS)('%s has a severity, a summary and a description naming a tollgate command', (name) => {
    const rule = rules.find((r) => r.alert === name);
    expect(rule, `${name} missing`).toBeDefined();
    expect(['critical', 'warning']).toContain(rule!.labels?.severity);
    expect(rule!.annotations?.summary?.length ?? 0).toBeGreaterThan(10);
    const description = rule!.annotations?.description ?? '';
    expect(description.length).toBeGreaterThan(80);
    expect(description, `${name}: say what to do`).toMatch(/`tollgate (graph|ctl|serve)\b/);
    expect(rule!.for, `${name}: state its \`for\` explicitly`).toMatch(/^\d+[smh]$/);
  });

  it('fires the loop alert immediately (for: 0m)', () => {
    expect(rules.find((r) => r.alert === 'TollgateDelegationLoopDetected')!.for).toBe('0m');
  });
});

describe('alerts.test.yml covers alerts.yml', () => {
  const rules = alertRules();
  const tests = readYaml(alertsTestFile) as RuleTestFile;
  const cases = tests.tests.flatMap((t) => (t.alert_rule_test ?? []).map((c) => ({ group: t.name ?? '(unnamed)', ...c })));

  it('loads alerts.yml from its own directory', () => {
    expect(tests.rule_files).toEqual(['alerts.yml']);
  });

  it('only tests alerts that exist', () => {
    const names = new Set(rules.map((r) => r.alert));
    for (const c of cases) expect(names.has(c.alertname), `${c.group}: unknown alert ${c.alertname}`).toBe(true);
  });

  it.each(REQUIRED_ALERTS)('%s: a case fires it, with its labels and annotations', (name) => {
    const rule = rules.find((r) => r.alert === name)!;
    const firing = cases.filter((c) => c.alertname === name && (c.exp_alerts?.length ?? 0) > 0);
    expect(firing.length, `no promtool case fires ${name}`).toBeGreaterThan(0);
    for (const c of firing) {
      for (const a of c.exp_alerts!) {
        expect(a.exp_labels?.severity, `${c.group}: exp_labels.severity`).toBe(rule.labels?.severity);
        expect(Object.keys(a.exp_annotations ?? {}).sort(), `${c.group}: exp_annotations`).toEqual(Object.keys(rule.annotations ?? {}).sort());
      }
    }
  });

  it.each(REQUIRED_ALERTS)('%s: a case asserts it stays silent', (name) => {
    const silent = cases.filter((c) => c.alertname === name && (c.exp_alerts?.length ?? 0) === 0);
    expect(silent.length, `no promtool case checks that ${name} does not fire`).toBeGreaterThan(0);
  });
});

describe('prometheus.yml', () => {
  interface ScrapeConfig {
    global: { scrape_interval: string; evaluation_interval?: string };
    rule_files: string[];
    scrape_configs: { job_name: string; metrics_path?: string; scheme?: string; static_configs: { targets: string[] }[] }[];
  }
  const config = readYaml(scrapeConfigFile) as ScrapeConfig;

  it('scrapes the `npm start` metrics listener every 5s', () => {
    expect(config.global.scrape_interval).toBe('5s');
    const job = config.scrape_configs.find((j) => j.job_name === 'tollgate');
    expect(job, 'job tollgate').toBeDefined();
    expect(job!.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job!.scheme ?? 'http').toBe('http');
    const example = readYaml(path.join(repoRoot, 'tollgate.example.yaml')) as { listen?: { metrics?: string } };
    const listen = example.listen?.metrics ?? '127.0.0.1:9464';
    expect(listen).toBe('127.0.0.1:9464');
    expect(job!.static_configs.flatMap((s) => s.targets)).toEqual([listen]);
  });

  it('loads alerts.yml by a path relative to itself, and the job matches TollgateDown', () => {
    expect(config.rule_files).toEqual(['alerts.yml']);
    expect(fs.existsSync(path.join(path.dirname(scrapeConfigFile), config.rule_files[0]))).toBe(true);
    const down = alertRules().find((r) => r.alert === 'TollgateDown')!;
    const job = /up\{job="([^"]+)"\}/.exec(down.expr)?.[1];
    expect(config.scrape_configs.map((j) => j.job_name)).toContain(job);
  });
});
