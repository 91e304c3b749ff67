import type { AggregateJSON, CallJSON, TaskTreeJSON } from './json.js';
import { callOutcome, failureText } from './outcome.js';

/** Text for `tollgate graph`: a task as an indented tree, the aggregate graph as a table. Pure. */
function fmtCost(n: number): string {
  if (n === 0) return '0';
  return Number.isInteger(n) ? String(n) : n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
}

function callLine(c: CallJSON, unit: string, cut: boolean): string {
  const parts = [`${c.callerName} -> ${c.calleeName}`, c.method];
  parts.push(c.status === null ? (c.decision === 'allowed' ? 'in flight' : '-') : String(c.status));
  if (cut) parts.push('REFUSED loop (closing edge, cut)');
  else if (c.decision === 'refused') parts.push(`REFUSED ${c.reason ?? ''}`.trim());
  else if ((c.outcome ?? callOutcome(c)) === 'error') parts.push(`FAILED${c.error ? ` ${c.error}` : ''}: ${c.message ?? failureText(c.error, c.status)}`);
  else parts.push('allowed');
  if (c.durationMs !== null) parts.push(`${Math.round(c.durationMs)} ms`);
  if (c.costInclusive || c.cost) {
    parts.push(c.costInclusive !== c.cost ? `cost ${fmtCost(c.costInclusive)} ${unit} (self ${fmtCost(c.cost)})` : `cost ${fmtCost(c.cost)} ${unit}`);
  }
  return parts.join('  ');
}

export function renderTaskTree(t: TaskTreeJSON): string {
  const out: string[] = [];
  out.push(`task ${t.rootTaskId}${t.cancelled ? '  [CANCELLED]' : ''}`);
  out.push(`initiator: ${t.initiator.name} (${t.initiator.id})`);
  out.push(`started:   ${new Date(t.startedAt).toISOString()}`);
  const dropped = t.totals.droppedCalls ? `, ${t.totals.droppedCalls} not recorded (tree full)` : '';
  out.push(`calls:     ${t.totals.calls} (${t.totals.refused} refused${dropped}), cost ${fmtCost(t.totals.cost)} ${t.costUnit}`);
  out.push('');

  const ids = new Set(t.calls.map((c) => c.id));
  const children = new Map<string | null, CallJSON[]>();
  for (const c of t.calls) {
    const key = c.parent !== null && ids.has(c.parent) ? c.parent : null;
    const list = children.get(key);
    if (list) list.push(c);
    else children.set(key, [c]);
  }
  const cut = new Set(t.loops.map((l) => l.callId));
  const walk = (parent: string | null, prefix: string, depth: number) => {
    const list = children.get(parent) ?? [];
    list.forEach((c, i) => {
      const last = i === list.length - 1;
      const branch = depth === 0 ? '' : last ? '└─ ' : '├─ ';
      out.push(`${prefix}${branch}${callLine(c, t.costUnit, cut.has(c.id))}`);
      walk(c.id, depth === 0 ? prefix : prefix + (last ? '   ' : '│  '), depth + 1);
    });
  };
  walk(null, '', 0);

  for (const l of t.loops) {
    out.push('');
    out.push(`loop cut: the call ${l.fromName} -> ${l.toName} closed the cycle ${l.cycleNames.join(' -> ')}`);
    out.push(`          task started by ${t.initiator.name}; closing edge ${l.from} -> ${l.to}`);
  }
  return `${out.join('\n')}\n`;
}

/** Columns padded to width; numeric columns (indexes in `right`) aligned right. */
function table(rows: string[][], right: readonly number[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (right.includes(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : v.toFixed(1);
}

/** "refused: loop 2, no_rule 1; failed: refused 3" (absent from an older server's JSON: empty) */
function why(refusals: Record<string, number> | undefined, errors: Record<string, number> | undefined): string {
  const list = (m: Record<string, number> | undefined) =>
    Object.entries(m ?? {})
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const parts: string[] = [];
  if (list(refusals)) parts.push(`refused: ${list(refusals)}`);
  if (list(errors)) parts.push(`failed: ${list(errors)}`);
  return parts.join('; ');
}

export function renderAggregateTable(g: AggregateJSON): string {
  const out: string[] = [];
  out.push(`call graph over the last ${Math.round(g.windowMs / 1000)}s (${new Date(g.at).toISOString()})`);
  out.push('');
  if (g.edges.length === 0) {
    out.push('no calls in the window');
  } else {
    const rows = [['caller', 'callee', 'calls', 'errors', 'refused', 'avg ms', 'p50 ms', 'p99 ms', 'max ms', 'cycle', 'why']];
    const sorted = [...g.edges].sort((a, b) => a.fromName.localeCompare(b.fromName) || a.toName.localeCompare(b.toName));
    for (const e of sorted) {
      rows.push([
        e.fromName,
        e.toName,
        String(e.calls),
        String(e.errors),
        String(e.refusals),
        ms(e.latencyAvgMs),
        ms(e.latencyP50Ms),
        ms(e.latencyP99Ms),
        ms(e.latencyMaxMs),
        e.onCycle ? 'CYCLE' : '',
        why(e.refusalsByReason, e.errorsByKind),
      ]);
    }
    out.push(table(rows, [2, 3, 4, 5, 6, 7, 8]));
  }
  out.push('');
  if (g.cycles.length === 0) out.push('cycles: none');
  else for (const c of g.cycles) out.push(`cycle: ${c.names.join(' -> ')}`);
  // a cut loop is not a live cycle (its closing call was refused): say so next to "cycles: none"
  if (g.loopsCut) out.push(`loops cut: ${g.loopsCut} (refused at their first revisit; tollgate graph --task ID shows each)`);
  if (g.recentTasks?.length) {
    out.push('');
    out.push('recent tasks (tollgate graph --task ID):');
    const rows = [['task', 'initiator', 'started', 'calls', 'refused', 'failed', 'loops', `cost ${g.costUnit}`]];
    for (const t of g.recentTasks) {
      rows.push([
        t.rootTaskId + (t.cancelled ? ' [cancelled]' : ''),
        t.initiator.name,
        new Date(t.startedAt).toISOString(),
        String(t.calls),
        String(t.refused),
        t.errors === undefined ? '-' : String(t.errors),
        String(t.loops),
        fmtCost(t.cost),
      ]);
    }
    out.push(table(rows, [3, 4, 5, 6, 7]));
  }
  return `${out.join('\n')}\n`;
}
