/**
 * Step 5: the summary, read back from the running gateway (its metrics listener) and the CLI, the way an
 * operator would look at it after the fact.
 */
import type { AggregateJSON, TaskSummaryJSON, TaskTreeJSON } from '../governance/graph/json.js';
import { runCli, shellCommand } from './cli.js';
import { USER_ID } from './config.js';
import { DemoError } from './errors.js';
import type { Narrator } from './narrator.js';
import { countCalls, parsePrometheus, renderCounts, renderTasks, taskRows } from './summary.js';
import type { StoryResult } from './story.js';

const RATE_LIMITS = new Set(['caller', 'edge', 'concurrency']);

async function get(url: string): Promise<Response> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new DemoError('gateway', `cannot read ${url} from the gateway: ${(e as Error).message}`, { cause: e });
  }
}

async function getJson<T>(url: string): Promise<T | undefined> {
  const res = await get(url);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new DemoError('gateway', `the gateway answered ${res.status} for ${url}`);
  return (await res.json()) as T;
}

function summaryOf(t: TaskTreeJSON): TaskSummaryJSON {
  return {
    rootTaskId: t.rootTaskId,
    initiator: t.initiator,
    startedAt: t.startedAt,
    calls: t.totals.calls,
    refused: t.totals.refused,
    cost: t.totals.cost,
    loops: t.loops.length,
    cancelled: t.cancelled,
  };
}

/** The first snapshot of the live page's event stream (/ui/events): {aggregate, tasks, budgets}. */
async function pageSnapshot(base: string): Promise<{ tasks?: TaskSummaryJSON[] } | undefined> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 5000);
  try {
    const res = await fetch(`${base}/ui/events`, { signal: ac.signal });
    if (!res.ok || !res.body) return undefined;
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    let buf = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      const end = buf.indexOf('\n\n', buf.indexOf('data:'));
      if (buf.includes('data:') && end >= 0) {
        const data = buf
          .slice(buf.indexOf('data:'), end)
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        return JSON.parse(data) as { tasks?: TaskSummaryJSON[] };
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

/**
 * The recent root tasks: from /graph when it lists them, else from the live page's snapshot, else only the
 * tasks the story knows by id (/graph/tasks/<id>).
 */
async function recentTasks(base: string, graph: (AggregateJSON & { tasks?: TaskSummaryJSON[] }) | undefined, knownIds: string[]): Promise<TaskSummaryJSON[]> {
  if (Array.isArray(graph?.tasks)) return graph.tasks;
  const snapshot = await pageSnapshot(base);
  if (Array.isArray(snapshot?.tasks)) return snapshot.tasks;
  const trees = await Promise.all(knownIds.map((id) => getJson<TaskTreeJSON>(`${base}/graph/tasks/${encodeURIComponent(id)}`)));
  return trees.filter((t): t is TaskTreeJSON => t !== undefined).map(summaryOf);
}

export async function printSummary(say: Narrator, metricsPort: number, story: StoryResult): Promise<{ loopTaskId: string; tree: string }> {
  const server = `127.0.0.1:${metricsPort}`;
  const base = `http://${server}`;
  say.step(5, `Summary, as the gateway saw it (${base}/metrics and /graph)`);

  const metrics = await (await get(`${base}/metrics`)).text();
  const counts = countCalls(parsePrometheus(metrics));
  for (const l of renderCounts(counts)) say.line(`  ${l}`);

  const graph = await getJson<AggregateJSON & { tasks?: TaskSummaryJSON[] }>(`${base}/graph`);
  const unit = graph?.costUnit ?? 'USD';
  const tasks = await recentTasks(base, graph, story.loop.rootTaskId ? [story.loop.rootTaskId] : []);
  for (const l of renderTasks(taskRows(tasks, story.tasks, USER_ID), unit)) say.line(`  ${l}`);
  // the rate limiter refuses before the delegation stage: those calls never join a task's tree
  if (counts.refusals.some((r) => r.status === 429 && RATE_LIMITS.has(r.reason)))
    say.line('  (calls the rate limiter refused are counted above; they never became part of a task)');
  for (const c of graph?.cycles ?? []) say.line(`  cycle in the aggregate call graph: ${c.names.join(' -> ')}`);

  const loopTaskId = story.loop.rootTaskId ?? tasks.find((t) => t.loops > 0)?.rootTaskId;
  if (!loopTaskId) throw new DemoError('story', 'the gateway reported no task with a cut loop');
  // --task=ID: a task id may start with '-' (base64url), which a separate argument would turn into an option
  const args = ['graph', '--server', server, `--task=${loopTaskId}`];
  say.line('  call tree of the looping task:');
  say.line(`  $ ${shellCommand(args)}`);
  const { stdout } = await runCli(args);
  for (const l of stdout.trimEnd().split('\n')) say.line(l.trim() === '' ? '' : `    ${l}`);
  return { loopTaskId, tree: stdout };
}
