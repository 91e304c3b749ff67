// deploy/grafana/tollgate-dashboard.json: it parses, every query names only metrics (and labels) the gateway
// exports (proxy/metrics.ts), every exported tollgate_* family is on some panel, and every expression is
// valid PromQL by the real promtool (the queries, with Grafana's variables filled in, as recording rules).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createMetrics } from '../../proxy/metrics.js';
import { promtoolBin, repoRoot, runTool } from './tools.js';

interface Target {
  expr: string;
  refId: string;
  datasource?: { uid: string };
}
interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: Target[];
  gridPos: { x: number; y: number; w: number; h: number };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string }[] };
}

const file = path.join(repoRoot, 'deploy/grafana/tollgate-dashboard.json');
const dashboard = JSON.parse(fs.readFileSync(file, 'utf8')) as Dashboard;
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

/** metric family -> its label names, as the gateway registers them (histograms: their series suffixes too) */
function exported(): Map<string, string[]> {
  const registry = createMetrics({ processMetrics: false }).registry;
  const out = new Map<string, string[]>();
  for (const m of registry.getMetricsAsArray() as unknown as { name: string; labelNames: string[]; constructor: { name: string } }[]) {
    out.set(m.name, m.labelNames);
    if (m.constructor.name === 'Histogram') {
      out.set(`${m.name}_bucket`, [...m.labelNames, 'le']);
      out.set(`${m.name}_sum`, m.labelNames);
      out.set(`${m.name}_count`, m.labelNames);
    }
  }
  return out;
}

/** Grafana's variables replaced by what they expand to */
const concrete = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*');

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
});

describe('the Grafana dashboard', () => {
  const metrics = exported();

  it('is a dashboard with a Prometheus datasource variable used by every query', () => {
    expect(dashboard.uid).toBe('tollgate-gateway');
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'instance']);
    expect(queries.length).toBeGreaterThan(15);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) expect(p.datasource?.uid, p.title).toBe('${datasource}');
    for (const q of queries) expect(q.datasource?.uid, q.panel).toBe('${datasource}');
  });

  it('panels do not overlap on the 24-column grid', () => {
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
  });

  it('queries only metrics the gateway exports, with labels those metrics have', () => {
    for (const q of queries) {
      const names = [...q.expr.matchAll(/\b(tollgate_[a-z_]+)\b/g)].map((m) => m[1]);
      // `up` is Prometheus' own series for each scraped replica; everything else must be the gateway's
      if (names.length === 0) expect(q.expr, q.panel).toMatch(/^up\{job="tollgate"/);
      const known = new Set(['job', 'instance']);
      for (const n of names) {
        expect(metrics.has(n), `${q.panel}: ${n} is not exported by proxy/metrics.ts`).toBe(true);
        for (const l of metrics.get(n)!) known.add(l);
      }
      const used = [
        ...[...q.expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1].split(',').map((s) => s.trim())),
        ...[...q.expr.matchAll(/[{,]\s*([a-z_]+)\s*(=~|!=|!~|=)/g)].map((m) => m[1]),
      ];
      for (const l of used) expect(known.has(l), `${q.panel}: label ${l} in ${q.expr}`).toBe(true);
    }
  });

  it('shows every tollgate_* family the gateway exports', () => {
    const text = queries.map((q) => q.expr).join('\n');
    const families = [...metrics.keys()].filter((n) => n.startsWith('tollgate_') && !/_(bucket|sum|count)$/.test(n));
    for (const n of families) expect(text, `no panel shows ${n}`).toMatch(new RegExp(`\\b${n}(_bucket|_sum|_count)?\\b`));
  });

  it('every expression is valid PromQL (promtool check rules)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-grafana-'));
    tmp.push(dir);
    const rules = { groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ record: `dashboard:q${i}`, expr: concrete(q.expr) })) }] };
    fs.writeFileSync(path.join(dir, 'rules.yml'), stringify(rules));
    const r = runTool(promtoolBin, ['check', 'rules', 'rules.yml'], dir);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(`SUCCESS: ${queries.length} rules found`);
  });

  it('promtool does reject a broken expression (the check above can fail)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-grafana-'));
    tmp.push(dir);
    fs.writeFileSync(
      path.join(dir, 'rules.yml'),
      stringify({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum by (callee (rate(tollgate_requests_total[1m]))' }] }] }),
    );
    expect(runTool(promtoolBin, ['check', 'rules', 'rules.yml'], dir).status).not.toBe(0);
  });
});
