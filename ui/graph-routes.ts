import type http from 'node:http';
import { parseDuration } from '../config/duration.js';
import type { CallGraph } from '../governance/graph/call-graph.js';
import { decideAccess, type AccessPolicy } from './access.js';
import type { Route } from './server.js';

/**
 * The read-only graph endpoints next to the live page on the metrics listener, for scripts and
 * `tollgate graph` (same access rules as the page's data):
 *
 *   /graph                   the aggregate caller -> callee graph (JSON; ?format=dot for Graphviz;
 *                            ?range=1m for the last minute of the window instead of all of it)
 *   /graph/tasks/<id>        one root task's call tree (JSON; <id>.dot or ?format=dot for Graphviz)
 *   /graph/agents/<id|name>  one agent: calls in and out (rates, p50/p99, refusals by reason, failures by kind)
 *                            and its recent calls (JSON; ?range=)
 *   /graph/edges?from=&to=   the same for one caller -> callee edge (SPIFFE IDs or names; ?range=)
 *
 * Every field a route answered before stays: new figures are added beside them.
 */
export interface GraphRoutesOptions {
  graph: Pick<CallGraph, 'aggregateJSON' | 'aggregateDot' | 'taskJSON' | 'taskDot' | 'agentDetail' | 'edgeDetail' | 'resolveAgent'>;
  access: AccessPolicy;
  now: () => number;
}

type UrlRoute = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void;

/** ids and names are short; bounded so a lookup never compares huge strings */
const MAX_NAME = 512;

function fail(res: http.ServerResponse, status: number, error: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify({ error })}\n`);
}

/** `?range=` as ms: absent = the whole window; otherwise a duration ("30s", "1m") or ms; null when invalid */
function rangeOf(url: URL): number | undefined | null {
  const raw = url.searchParams.get('range');
  if (raw === null || raw === '') return undefined;
  const ms = parseDuration(/^\d+$/.test(raw) ? Number(raw) : raw);
  return ms === null || ms <= 0 ? null : ms;
}

function send(res: http.ServerResponse, body: unknown, dot: boolean): void {
  if (body === undefined) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such task among the recent tasks"}\n');
    return;
  }
  res.writeHead(200, { 'content-type': dot ? 'text/vnd.graphviz; charset=utf-8' : 'application/json', 'cache-control': 'no-store' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

export function createGraphRoutes(opts: GraphRoutesOptions): Record<string, Route> {
  const { graph, access, now } = opts;
  const guarded =
    (handler: UrlRoute): Route =>
    (req, res) => {
      const url = new URL(req.url ?? '/', 'http://tollgate');
      const verdict = decideAccess(access, {
        remoteAddress: req.socket.remoteAddress,
        queryToken: url.searchParams.get('token'),
        authorization: req.headers.authorization,
      });
      if (!verdict.ok) {
        res.writeHead(verdict.status, { 'content-type': 'text/plain' }).end(`${verdict.message}\n`);
        return;
      }
      handler(req, res, url);
    };
  return {
    '/graph': guarded((_req, res, url) => {
      const dot = url.searchParams.get('format') === 'dot';
      const range = rangeOf(url);
      if (range === null) {
        fail(res, 400, 'range must be a duration such as 30s, 1m or 5m');
        return;
      }
      send(res, dot ? graph.aggregateDot(now()) : graph.aggregateJSON(now(), range), dot);
    }),
    '/graph/agents/': guarded((_req, res, url) => {
      const range = rangeOf(url);
      if (range === null) {
        fail(res, 400, 'range must be a duration such as 30s, 1m or 5m');
        return;
      }
      let raw: string;
      try {
        raw = decodeURIComponent(url.pathname.slice('/graph/agents/'.length));
      } catch {
        fail(res, 400, 'the agent must be a SPIFFE ID or a name, percent-encoded');
        return;
      }
      const t = now();
      const id = raw.length <= MAX_NAME ? graph.resolveAgent(raw, t) : undefined;
      if (id === undefined) {
        fail(res, 404, `no calls to or from ${raw.slice(0, 80)} in the window`);
        return;
      }
      send(res, graph.agentDetail(id, t, range), false);
    }),
    '/graph/edges': guarded((_req, res, url) => {
      const range = rangeOf(url);
      if (range === null) {
        fail(res, 400, 'range must be a duration such as 30s, 1m or 5m');
        return;
      }
      const from = url.searchParams.get('from') ?? '';
      const to = url.searchParams.get('to') ?? '';
      if (!from || !to || from.length > MAX_NAME || to.length > MAX_NAME) {
        fail(res, 400, 'name the edge: ?from=<caller>&to=<callee> (SPIFFE IDs or names)');
        return;
      }
      const t = now();
      const a = graph.resolveAgent(from, t);
      const b = graph.resolveAgent(to, t);
      if (a === undefined || b === undefined) {
        fail(res, 404, `no calls from ${from.slice(0, 80)} to ${to.slice(0, 80)} in the window`);
        return;
      }
      send(res, graph.edgeDetail(a, b, t, range), false);
    }),
    '/graph/tasks/': guarded((_req, res, url) => {
      let id = decodeURIComponent(url.pathname.slice('/graph/tasks/'.length));
      const dot = id.endsWith('.dot') || url.searchParams.get('format') === 'dot';
      if (id.endsWith('.dot')) id = id.slice(0, -4);
      send(res, dot ? graph.taskDot(id) : graph.taskJSON(id), dot);
    }),
  };
}
