// Helpers for the deploy/prometheus tests: where the files are, how to run promtool/prometheus,
// and typed views of the YAML files.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const promDir = path.join(repoRoot, 'deploy/prometheus');
export const alertsFile = path.join(promDir, 'alerts.yml');
export const alertsTestFile = path.join(promDir, 'alerts.test.yml');
export const scrapeConfigFile = path.join(promDir, 'prometheus.yml');

// Both binaries come from Debian's `prometheus` package; PROMTOOL / PROMETHEUS override the path.
export const promtoolBin = process.env.PROMTOOL ?? 'promtool';
export const prometheusBin = process.env.PROMETHEUS ?? 'prometheus';

export function missingToolMessage(bin: string): string {
  return (
    `${bin} not found on PATH. It comes with the Debian package "prometheus": ` +
    `apt-get update && apt-get install -y prometheus (then stop the service it starts: service prometheus stop). ` +
    `.ci/run installs it in CI.`
  );
}

export interface ToolRun {
  status: number | null;
  /** stdout + stderr, in that order: promtool splits its messages between the two */
  output: string;
}

/** Runs a tool to completion from the repository root; a missing binary is an error, never a skip. */
export function runTool(bin: string, args: string[], cwd = repoRoot): ToolRun {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(missingToolMessage(bin));
    throw r.error;
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RecordingRule {
  record: string;
  expr: string;
}
export interface RuleFile {
  groups: { name: string; rules: (AlertRule | RecordingRule)[] }[];
}

export interface ExpectedAlert {
  exp_labels?: Record<string, string>;
  exp_annotations?: Record<string, string>;
}
export interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: ExpectedAlert[] | null;
}
export interface RuleTestFile {
  rule_files: string[];
  tests: { name?: string; interval?: string; input_series: unknown[]; alert_rule_test?: AlertRuleTest[] }[];
}

/** The parsed file, as the caller says it is shaped (these are the repository's own files). */
export function readYaml(file: string): unknown {
  return parse(fs.readFileSync(file, 'utf8'));
}

export function alertRules(file = alertsFile): AlertRule[] {
  return (readYaml(file) as RuleFile).groups.flatMap((g) => g.rules.filter((r): r is AlertRule => 'alert' in r));
}

export function ruleCount(file = alertsFile): number {
  return (readYaml(file) as RuleFile).groups.reduce((n, g) => n + g.rules.length, 0);
}
