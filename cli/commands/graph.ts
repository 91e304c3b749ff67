/**
 * `tollgate graph [--server HOST:PORT] [--task ID] [--dot] [--json]`: reads the call graph from a running
 * gateway's metrics listener (read-only, loopback by default) and prints it as a table, a task tree, DOT or JSON.
 */
import { parseCommandArgs } from '../args.js';
import { CliError } from '../errors.js';
import { GRAPH_HELP } from '../help.js';
import { DEFAULT_METRICS_SERVER } from '../defaults.js';
import type { Command } from '../io.js';
import { renderAggregateTable, renderTaskTree, taskToDot, aggregateToDot } from '../../governance/graph/index.js';
import type { AggregateJSON, TaskTreeJSON } from '../../governance/graph/index.js';

export const graph: Command = async (argv, io) => {
  const { values } = parseCommandArgs('graph', argv, {
    server: { type: 'string' },
    task: { type: 'string' },
    dot: { type: 'boolean' },
    json: { type: 'boolean' },
    token: { type: 'string' },
  });
  if (values.help) {
    io.out(GRAPH_HELP);
    return 0;
  }
  // like `ctl`: the default is the listener `tollgate serve` opens with the example config, on this machine
  const server = values.server ?? (process.env.TOLLGATE_METRICS_SERVER || DEFAULT_METRICS_SERVER);
  const path = values.task ? `/graph/tasks/${encodeURIComponent(values.task)}` : '/graph';
  const url = `http://${server}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: values.token ? { authorization: `Bearer ${values.token}` } : {}, signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new CliError(
      `cannot reach the gateway's metrics listener at ${server} (${(e as Error).cause ? (e as { cause: Error }).cause.message : (e as Error).message})`,
      'pass --server with the listen.metrics address of `tollgate serve` (default 127.0.0.1:9464)',
    );
  }
  if (res.status === 404 && values.task)
    throw new CliError(
      `no task ${values.task} in the gateway's recent tasks`,
      'run `tollgate graph` to list recent tasks; old tasks are evicted (graph.recentTasks)',
    );
  if (!res.ok)
    throw new CliError(
      `the gateway answered ${res.status} for ${path}`,
      res.status === 403 ? 'the graph is served to loopback callers only' : 'check --server',
    );
  const body = (await res.json()) as AggregateJSON | TaskTreeJSON;
  if (values.json) io.out(JSON.stringify(body, null, 2));
  else if (values.task) io.out(values.dot ? taskToDot(body as TaskTreeJSON) : renderTaskTree(body as TaskTreeJSON));
  else io.out(values.dot ? aggregateToDot(body as AggregateJSON) : renderAggregateTable(body as AggregateJSON));
  return 0;
};
