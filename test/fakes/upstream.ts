import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A stand-in upstream agent over mTLS for edge cases: it records every request it receives and answers
 * with whatever handler the test sets (JSON, slow, reset, SSE with delays, ...). Requires a client
 * certificate (the gateway's) like a real agent behind Tollgate.
 */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: string;
  /** the client certificate's URI SAN as Node reports it (good enough to see WHO called in a test) */
  peerSan: string | undefined;
}

export type UpstreamHandler = (req: IncomingMessage & { body: string }, res: ServerResponse) => void | Promise<void>;

export interface StandInUpstream {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** requests whose response was cut because the client went away */
  aborted: RecordedRequest[];
  setHandler(h: UpstreamHandler): void;
  close(): Promise<void>;
}

export interface StandInOptions {
  keyPem: string;
  certChainPem: string;
  bundlePem: string;
  handler?: UpstreamHandler;
  /** require a client certificate (default true) */
  requireClientCert?: boolean;
}

export const handlers = {
  /** answer JSON-RPC with a small result echoing the request id (~150 B) */
  jsonRpcOk(): UpstreamHandler {
    return (req, res) => {
      let id: unknown = null;
      try {
        id = (JSON.parse(req.body || 'null') as { id?: unknown } | null)?.id ?? null;
      } catch {
        // not JSON
      }
      const body = JSON.stringify({ jsonrpc: '2.0', id, result: { kind: 'message', role: 'agent', messageId: 'm-1', parts: [{ kind: 'text', text: 'ok' }] } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
  },
  /** wait `ms` before answering */
  slow(ms: number, then: UpstreamHandler = handlers.jsonRpcOk()): UpstreamHandler {
    return (req, res) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => resolve(then(req, res)), ms);
        res.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
  },
  /** destroy the connection without answering */
  reset(): UpstreamHandler {
    return (req) => {
      req.socket.destroy();
    };
  },
  /** an SSE stream: one `data:` event per item, `delayMs` apart */
  sse(events: unknown[], delayMs: number): UpstreamHandler {
    return (req, res) =>
      new Promise<void>((resolve) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let i = 0;
        let t: NodeJS.Timeout | undefined;
        const next = () => {
          if (i >= events.length) {
            res.end();
            resolve();
            return;
          }
          res.write(`data: ${JSON.stringify(events[i++])}\n\n`);
          t = setTimeout(next, delayMs);
        };
        res.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        next();
      });
  },
};

export async function startStandInUpstream(opts: StandInOptions): Promise<StandInUpstream> {
  let handler: UpstreamHandler = opts.handler ?? handlers.jsonRpcOk();
  const requests: RecordedRequest[] = [];
  const aborted: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = https.createServer(
    {
      key: opts.keyPem,
      cert: opts.certChainPem,
      ca: opts.bundlePem,
      requestCert: opts.requireClientCert ?? true,
      rejectUnauthorized: opts.requireClientCert ?? true,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerX509Certificate?.();
        const rec: RecordedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          rawHeaders: req.rawHeaders,
          body,
          peerSan: peer?.subjectAltName,
        };
        requests.push(rec);
        res.once('close', () => {
          if (!res.writableFinished) aborted.push(rec);
        });
        Promise.resolve(handler(Object.assign(req, { body }), res)).catch(() => res.destroy());
      });
    },
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    requests,
    aborted,
    setHandler(h) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
