/**
 * The summary at the end, from what the gateway itself counted: calls and refusals from /metrics
 * (Prometheus text), cost per task from the /graph JSON. Pure: text and JSON in, lines out.
 */
import { REFUSAL_TABLE, type RefusalReason } from '../governance/delegation/refusals.js';
import type { TaskSummaryJSON } from '../governance/graph/json.js';
import type { UserTask } from './story.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Prometheus text exposition -> samples (comments and malformed lines skipped). */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = Number(m[3]);
    if (Number.isFinite(value)) out.push({ name: m[1], labels, value });
  }
  return out;
}

export interface RefusalCount {
  status: number | undefined;
  reason: string;
  count: number;
}

export interface CallCounts {
  /** A2A calls (not card lookups) */
  calls: number;
  answered: number;
  refused: number;
  cardLookups: number;
  refusals: RefusalCount[];
}

/** HTTP status of the pipeline's own refusal reasons (proxy/stages). */
const PIPELINE_STATUS: Record<string, number> = {
  no_rule: 403,
  method_not_allowed: 403,
  not_a2a: 403,
  revoked: 403,
  unauthenticated: 401,
  expired: 401,
  not_yet_valid: 401,
  bad_path: 400,
  batch: 400,
  unknown_agent: 404,
  no_route: 404,
  too_large: 413,
};
const DISCOVERY = new Set(['GetAgentCard', 'ListAgents']);

export function countCalls(samples: readonly Sample[]): CallCounts {
  let calls = 0;
  let answered = 0;
  let cardLookups = 0;
  const reasons = new Map<string, RefusalCount>();
  const add = (reason: string, status: number | undefined, n: number) => {
    if (n <= 0) return;
    const r = reasons.get(reason) ?? { reason, status, count: 0 };
    r.count += n;
    reasons.set(reason, r);
  };
  let delegationDenials = 0;
  let delegationDetailed = false;
  for (const s of samples) {
    if (s.name === 'tollgate_requests_total') {
      if (DISCOVERY.has(s.labels.method)) cardLookups += s.value;
      else {
        calls += s.value;
        if (Number(s.labels.status) < 400) answered += s.value;
      }
    } else if (s.name === 'tollgate_denials_total') {
      if (s.labels.reason === 'delegation') delegationDenials += s.value;
      else add(s.labels.reason, PIPELINE_STATUS[s.labels.reason], s.value);
    } else if (s.name === 'tollgate_rate_limited_total') {
      add(s.labels.limit, 429, s.value);
    } else if (s.name === 'tollgate_delegation_refusals_total') {
      delegationDetailed ||= s.value > 0;
      add(s.labels.reason, REFUSAL_TABLE[s.labels.reason as RefusalReason]?.status, s.value);
    }
  }
  // Without the delegation stage's own counter, its refusals are only known as one lump.
  if (!delegationDetailed) add('delegation', undefined, delegationDenials);
  const refusals = [...reasons.values()].sort((a, b) => (a.status ?? 999) - (b.status ?? 999) || a.reason.localeCompare(b.reason));
  return { calls, answered, refused: calls - answered, cardLookups, refusals };
}

export interface TaskRow {
  id: string;
  label: string;
  initiator: string;
  calls: number;
  refused: number;
  cost: number;
  loops: number;
}

/** The gateway's recent root tasks, oldest first, labelled with the request that started them when known. */
export function taskRows(tasks: readonly TaskSummaryJSON[], started: readonly UserTask[], initiatorId: string): TaskRow[] {
  return [...tasks]
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((t) => {
      // Same machine, same clock: the gateway started the task inside the window of the request that made it.
      // Windows touch at most at one millisecond; a task starts at the beginning of its window, so the last wins.
      const mine = t.initiator.id === initiatorId ? started.findLast((u) => t.startedAt >= u.startedAfter && t.startedAt <= u.startedBefore) : undefined;
      return { id: t.rootTaskId, label: mine?.label ?? '', initiator: t.initiator.name, calls: t.calls, refused: t.refused, cost: t.cost, loops: t.loops };
    });
}

export function formatCost(n: number, unit: string): string {
  return `${Number(n.toFixed(6))} ${unit}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
}

export function renderCounts(c: CallCounts): string[] {
  const out = [
    `calls through the gateway: ${c.calls} A2A calls, ${c.answered} answered by agents, ${c.refused} refused by the gateway (+ ${c.cardLookups} agent-card lookups)`,
  ];
  if (c.refusals.length === 0) out.push('refusals by reason: none');
  else {
    out.push('refusals by reason:');
    for (const line of table(c.refusals.map((r) => [String(r.status ?? '—'), r.reason, `× ${r.count}`]))) out.push(`  ${line}`);
  }
  return out;
}

export function renderTasks(rows: readonly TaskRow[], unit: string): string[] {
  if (rows.length === 0) return ['cost per task: the gateway listed no tasks'];
  const total = rows.reduce((s, r) => s + r.cost, 0);
  const body = rows.map((r) => [r.id, r.initiator, String(r.calls), String(r.refused), r.loops ? 'yes' : '', formatCost(r.cost, unit), r.label]);
  const lines = table([['task', 'started by', 'calls', 'refused', 'loop cut', 'cost', 'request'], ...body]);
  return [`cost per task (total ${formatCost(total, unit)}):`, ...lines.map((l) => `  ${l}`)];
}
