import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { GatewayMetrics } from './metrics.js';
import { ProxyError } from './errors.js';

/**
 * Plain-HTTP listener for `/metrics` (and routes the caller mounts, e.g. `/graph`). Loopback by default:
 * metrics name every agent and edge, so exposing them is an operator's explicit choice.
 */
export interface MetricsServerOptions {
  /** HOST:PORT; default 127.0.0.1:0 */
  listen?: string;
  metrics: GatewayMetrics;
  /** the exposition to serve (default metrics.text(): this process; a cluster worker serves its group's) */
  text?: () => Promise<string>;
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  if (i <= 0) throw new ProxyError('config', `listen address "${listen}" is not HOST:PORT`);
  const host = listen.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(listen.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ProxyError('config', `listen address "${listen}" has an invalid port`);
  return { host, port };
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<{ port: number; server: http.Server; close(): Promise<void> }> {
  const { host, port } = splitHostPort(opts.listen ?? '127.0.0.1:0');
  const routes = opts.routes ?? {};
  const prefixes = Object.keys(routes)
    .filter((k) => k.endsWith('/'))
    .sort((a, b) => b.length - a.length);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      (opts.text ?? (() => opts.metrics.text()))().then(
        (body) => {
          res.writeHead(200, { 'content-type': opts.metrics.contentType, 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics collection failed: ${(err as Error).message}\n`);
        },
      );
      return;
    }
    // exact paths first; a key ending in '/' also serves everything under it (e.g. '/graph/tasks/' + id)
    let route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route === undefined) {
      for (const prefix of prefixes) {
        if (path.startsWith(prefix) && path.length > prefix.length) {
          route = routes[prefix];
          break;
        }
      }
    }
    if (route) {
      try {
        route(req, res);
      } catch (err) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`route failed: ${(err as Error).message}\n`);
      }
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: try /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new ProxyError('listen', `cannot listen for metrics on ${opts.listen}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { cause: e })),
    );
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
