import type http from 'node:http';
import type { CallGraph } from '../governance/graph/call-graph.js';
import { decideAccess, type AccessPolicy } from './access.js';
import type { Route } from './server.js';

/**
 * The read-only graph endpoints next to the live page on the metrics listener, for scripts and
 * `tollgate graph` (same access rules as the page's data):
 *
 *   /graph                   the aggregate caller -> callee graph (JSON; ?format=dot for Graphviz)
 *   /graph/tasks/<id>        one root task's call tree (JSON; <id>.dot or ?format=dot for Graphviz)
 */
export interface GraphRoutesOptions {
  graph: Pick<CallGraph, 'aggregateJSON' | 'aggregateDot' | 'taskJSON' | 'taskDot'>;
  access: AccessPolicy;
  now: () => number;
}

type UrlRoute = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void;

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
      send(res, dot ? graph.aggregateDot(now()) : graph.aggregateJSON(now()), dot);
    }),
    '/graph/tasks/': guarded((_req, res, url) => {
      let id = decodeURIComponent(url.pathname.slice('/graph/tasks/'.length));
      const dot = id.endsWith('.dot') || url.searchParams.get('format') === 'dot';
      if (id.endsWith('.dot')) id = id.slice(0, -4);
      send(res, dot ? graph.taskDot(id) : graph.taskJSON(id), dot);
    }),
  };
}
