import type { AggregateJSON, TaskTreeJSON } from './json.js';
import { callOutcome, failureText, healthOf, ratesOf } from './outcome.js';

/** the colours of the page (ui/app.js): failed calls orange, refusals and cycles red, warnings amber */
const ORANGE = '"#e07000"';
const AMBER = '"#c78a00"';

/**
 * Graphviz DOT for a task tree and for the aggregate graph. Nodes are agents (keyed by SPIFFE ID, labelled
 * with short names); in a task, each call is one edge, numbered in start order. The initiator is a
 * double octagon; the edge that closed a loop (and was cut) is red and bold; other refused calls are dashed;
 * a call that failed (5xx, or no answer: the upstream refused, reset, timed out) is orange with its status and why.
 * In the aggregate, edges are coloured by health (outcome.ts): mostly refused red dashed, failing orange.
 */
function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

/** A label with line breaks: each part is escaped, joined by DOT's "\n". */
function lines(...parts: string[]): string {
  return `"${parts.map((p) => q(p).slice(1, -1)).join('\\n')}"`;
}

/** "1 call", "2 calls" */
export const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function fmtCost(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(4).replace(/0+$/, '');
}

export function taskToDot(t: TaskTreeJSON): string {
  const out: string[] = [];
  out.push(`digraph ${q(`task ${t.rootTaskId}`)} {`);
  out.push(`  label=${lines(`task ${t.rootTaskId}`, `initiator: ${t.initiator.name}`)};`);
  out.push('  labelloc=t;');
  out.push('  rankdir=LR;');
  out.push('  node [shape=box, style=rounded, fontname="Helvetica"];');
  out.push('  edge [fontname="Helvetica", fontsize=10];');
  const names = new Map<string, string>([[t.initiator.id, t.initiator.name]]);
  for (const c of t.calls) {
    names.set(c.caller, c.callerName);
    names.set(c.callee, c.calleeName);
  }
  for (const [id, name] of names) {
    if (id === t.initiator.id) out.push(`  ${q(id)} [label=${lines(name, '(initiator)')}, shape=doubleoctagon, style=bold];`);
    else out.push(`  ${q(id)} [label=${q(name)}];`);
  }
  const cut = new Set(t.loops.map((l) => l.callId));
  t.calls.forEach((c, i) => {
    const n = `#${i + 1} ${c.method}`;
    if (cut.has(c.id)) {
      out.push(`  ${q(c.caller)} -> ${q(c.callee)} [label=${lines(n, `LOOP CUT (${c.status ?? 508})`)}, color=red, fontcolor=red, penwidth=3, style=bold];`);
    } else if (c.decision === 'refused') {
      out.push(`  ${q(c.caller)} -> ${q(c.callee)} [label=${lines(n, `refused ${c.reason ?? ''} (${c.status ?? '-'})`)}, color=gray40, style=dashed];`);
    } else if ((c.outcome ?? callOutcome(c)) === 'error') {
      const why = c.error ? `FAILED ${c.error}` : 'FAILED';
      out.push(
        `  ${q(c.caller)} -> ${q(c.callee)} [label=${lines(n, `${c.status ?? '-'} ${why}`, c.message ?? failureText(c.error, c.status))}, color=${ORANGE}, fontcolor=${ORANGE}, penwidth=2];`,
      );
    } else {
      const status = c.status === null ? 'in flight' : String(c.status);
      const cost = c.costInclusive ? ` cost ${fmtCost(c.costInclusive)}` : '';
      out.push(`  ${q(c.caller)} -> ${q(c.callee)} [label=${lines(n, `${status}${cost}`)}];`);
    }
  });
  out.push('}');
  return `${out.join('\n')}\n`;
}

export function aggregateToDot(g: AggregateJSON): string {
  const out: string[] = [];
  out.push('digraph "tollgate" {');
  out.push(
    `  label=${q(`calls over the last ${Math.round(g.windowMs / 1000)}s${g.cycles.length ? `, ${g.cycles.length} cycle(s)` : ''}${g.loopsCut ? `, ${g.loopsCut} loop(s) cut` : ''}`)};`,
  );
  out.push('  labelloc=t;');
  out.push('  node [shape=box, style=rounded, fontname="Helvetica"];');
  out.push('  edge [fontname="Helvetica", fontsize=10];');
  for (const n of g.nodes) {
    out.push(`  ${q(n.id)} [label=${q(n.name)}${n.onCycle ? ', color=red, penwidth=2' : ''}];`);
  }
  for (const e of g.edges) {
    const stats = [count(e.calls, 'call')];
    if (e.errors) stats.push(count(e.errors, 'error'));
    if (e.refusals) stats.push(`${e.refusals} refused`);
    const lat =
      e.latencyAvgMs === null
        ? []
        : [
            e.latencyP50Ms != null && e.latencyP99Ms != null
              ? `p50 ${e.latencyP50Ms.toFixed(1)} ms, p99 ${e.latencyP99Ms.toFixed(1)} ms`
              : `avg ${e.latencyAvgMs.toFixed(1)} ms`,
          ];
    const why = [...Object.entries(e.refusalsByReason ?? {}), ...Object.entries(e.errorsByKind ?? {})].map(([k, n]) => `${k} ${n}`);
    const health = e.health ?? healthOf(ratesOf(e.calls, e.errors, e.refusals, e.errorsByKind ?? {}));
    const refusedMostly = e.refusals > 0 && e.refusals >= e.calls;
    const style = e.onCycle
      ? ', color=red, fontcolor=red, penwidth=3, style=bold'
      : refusedMostly
        ? ', color=red, fontcolor=red, style=dashed'
        : e.errors > 0 && health !== 'ok'
          ? `, color=${ORANGE}, fontcolor=${ORANGE}, penwidth=2`
          : health !== 'ok'
            ? `, color=${AMBER}, fontcolor=${AMBER}`
            : '';
    out.push(`  ${q(e.from)} -> ${q(e.to)} [label=${lines(stats.join(', '), ...lat, ...(why.length ? [why.join(', ')] : []))}${style}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
