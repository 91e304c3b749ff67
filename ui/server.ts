import type http from 'node:http';
import type { AggregateJSON, TaskSummaryJSON, TaskTreeJSON } from '../governance/graph/json.js';
import { decideAccess, decidePeerAccess, type AccessPolicy } from './access.js';
import { loadAssets, type Asset } from './assets.js';
import { UiError } from './errors.js';
import { SnapshotStream } from './events.js';

/**
 * The live call-graph page: HTTP routes to mount on the metrics listener (startMetricsServer({ routes })).
 *
 *   /ui                      the page (HTML)
 *   /ui/app.js               the page script
 *   /ui/vendor/<lib>.js      the graph library, from node_modules
 *   /ui/events               server-sent events: {aggregate, tasks, budgets} on connect and on change
 *   /ui/tasks?id=<id>        one root task's tree (JSON); /ui/tasks/<id> too where the listener routes prefixes
 *
 * Every route first checks the peer (loopback-only unless a token is set). The data routes and the page also
 * need the token when one is configured; the two scripts carry no data and are served without it, because a
 * <script> tag cannot send it.
 */
export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface GraphSource {
  aggregate(): AggregateJSON;
  /** recent root tasks, most recent first (at most `limit`) */
  tasks(limit?: number): TaskSummaryJSON[];
  task(id: string): TaskTreeJSON | undefined;
  /** per-agent budget use (see agentBudgets in ui/source.ts); shown as a table when it is an array of rows */
  budgets?(): unknown;
  /** `listener` is called when the graph changes; returns the unsubscribe function */
  subscribe(listener: () => void): () => void;
}

export interface GraphPageOptions {
  source: GraphSource;
  /** required when !loopbackOnly; compared in constant time */
  token?: string;
  loopbackOnly: boolean;
  now?: () => number;
  /** most recent tasks listed in a snapshot (default 50) */
  maxTasks?: number;
  /** see SnapshotStreamOptions */
  minIntervalMs?: number;
  heartbeatMs?: number;
  refreshMs?: number;
}

export interface GraphPage {
  routes: Record<string, Route>;
  /** event-stream clients connected now */
  clients(): number;
  /** ends the event streams and unsubscribes from the source (does not close the listener) */
  close(): void;
}

/** Longest root task id accepted (ids are 22 characters; bounded so a lookup never hashes a huge string). */
const MAX_TASK_ID = 128;

const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // scripts from this origin only; cytoscape sets element styles from script, hence style 'unsafe-inline'
  'content-security-policy':
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

function text(res: http.ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(`${body}\n`);
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(JSON.stringify(body));
}

function serve(res: http.ServerResponse, req: http.IncomingMessage, asset: Asset, headers: Record<string, string>): void {
  res.writeHead(200, { 'content-type': asset.contentType, 'content-length': String(asset.body.length), ...headers });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}

/** A percent-decoded path segment, or null when empty or malformed (answered 400, not 500). */
function decodePathPart(s: string): string | null {
  try {
    return decodeURIComponent(s) || null;
  } catch {
    return null;
  }
}

export function createGraphPage(opts: GraphPageOptions): GraphPage {
  if (!opts.loopbackOnly && !opts.token) {
    throw new UiError('config', 'the graph page needs a token when it is not loopback-only');
  }
  const policy: AccessPolicy = { loopbackOnly: opts.loopbackOnly, token: opts.token || undefined };
  const { source } = opts;
  const now = opts.now ?? Date.now;
  const maxTasks = opts.maxTasks ?? 50;
  const assets = loadAssets();
  const stream = new SnapshotStream({
    now,
    minIntervalMs: opts.minIntervalMs,
    heartbeatMs: opts.heartbeatMs,
    refreshMs: opts.refreshMs,
    snapshot: () => JSON.stringify({ aggregate: source.aggregate(), tasks: source.tasks(maxTasks).slice(0, maxTasks), budgets: source.budgets?.() ?? null }),
  });
  const unsubscribe = source.subscribe(() => stream.changed());

  /** Checks peer, (for data) token, then method; answers and returns undefined when refused. */
  function admit(req: http.IncomingMessage, res: http.ServerResponse, needsToken: boolean): URL | undefined {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    const verdict = needsToken
      ? decideAccess(policy, { remoteAddress: req.socket.remoteAddress, queryToken: url.searchParams.get('token'), authorization: req.headers.authorization })
      : decidePeerAccess(policy, req.socket.remoteAddress);
    if (!verdict.ok) {
      text(res, verdict.status, verdict.message, verdict.status === 401 ? { 'www-authenticate': 'Bearer realm="tollgate-graph"' } : {});
      return undefined;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      text(res, 405, 'method not allowed: use GET', { allow: 'GET, HEAD' });
      return undefined;
    }
    return url;
  }

  function taskRoute(idFrom: (url: URL) => string | null): Route {
    return (req, res) => {
      const url = admit(req, res, true);
      if (!url) return;
      const id = idFrom(url);
      if (!id || id.length > MAX_TASK_ID) {
        json(res, 400, { error: `task id must be 1-${MAX_TASK_ID} characters` });
        return;
      }
      const tree = source.task(id);
      if (!tree) {
        json(res, 404, { error: `no recent task ${id}` });
        return;
      }
      json(res, 200, tree);
    };
  }

  const routes: Record<string, Route> = {
    '/ui': (req, res) => {
      if (admit(req, res, true)) serve(res, req, assets.page, PAGE_HEADERS);
    },
    '/ui/app.js': (req, res) => {
      if (admit(req, res, false)) serve(res, req, assets.app, { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    },
    '/ui/events': (req, res) => {
      if (!admit(req, res, true)) return;
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
        res.end();
        return;
      }
      stream.add(res);
    },
    '/ui/tasks': taskRoute((url) => url.searchParams.get('id')),
    '/ui/tasks/': taskRoute((url) => decodePathPart(url.pathname.slice('/ui/tasks/'.length))),
  };
  for (const [urlPath, asset] of Object.entries(assets.vendor)) {
    routes[urlPath] = (req, res) => {
      if (admit(req, res, false)) serve(res, req, asset, { 'cache-control': 'max-age=3600', 'x-content-type-options': 'nosniff' });
    };
  }

  return {
    routes,
    clients: () => stream.size,
    close() {
      unsubscribe();
      stream.close();
    },
  };
}
