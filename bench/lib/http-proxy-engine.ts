import https from 'node:https';
import { Readable } from 'node:stream';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { createProxyServer } from 'http-proxy-3';
import { tlsMaterial } from '../../proxy/tls/trust.js';
import { spiffeServerIdentity } from '../../proxy/upstream/identity.js';
import type { EngineOptions, ForwardJob, Upstream, UpstreamSpec } from '../../proxy/upstream/engine.js';

/**
 * The alternative forwarding engine, for the benchmark only: http-proxy-3 with a keep-alive https.Agent
 * (without an agent it opens a TLS connection per request). Same governance and the same identity check
 * of the upstream; request headers replaced by the pipeline's filtered set; response handled by us so the
 * same header filtering applies.
 */
export function httpProxyUpstream(spec: UpstreamSpec, opts: EngineOptions): Upstream {
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 256,
    ...tlsMaterial(opts.trust),
    rejectUnauthorized: true,
    checkServerIdentity: spiffeServerIdentity(spec.id, spec.trustDomain, opts.trust, opts.now),
  });
  const proxy = createProxyServer({ target: spec.origin, agent, selfHandleResponse: true, secure: true, proxyTimeout: opts.headersTimeoutMs });
  proxy.on('proxyReq', (proxyReq: ClientRequest, req: IncomingMessage) => {
    const job = (req as IncomingMessage & { job?: ForwardJob }).job!;
    for (const name of proxyReq.getHeaderNames()) proxyReq.removeHeader(name);
    for (let i = 0; i < job.forwardHeaders.length; i += 2) proxyReq.setHeader(job.forwardHeaders[i], job.forwardHeaders[i + 1]);
    proxyReq.setHeader('host', new URL(spec.origin).host);
    proxyReq.path = job.upstreamPath;
  });
  proxy.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage) => {
    const job = (req as IncomingMessage & { job?: ForwardJob }).job!;
    const headers = job.onResponse(proxyRes.statusCode ?? 502, proxyRes.rawHeaders);
    job.res.writeHead(proxyRes.statusCode ?? 502, headers);
    let bytes = 0;
    proxyRes.on('data', (c: Buffer) => {
      bytes += c.length;
      if (job.tapBody) job.onBodyChunk(c);
    });
    proxyRes.pipe(job.res);
    proxyRes.on('end', () => job.onEnd(bytes, undefined));
    proxyRes.on('error', (e) => job.onEnd(bytes, e));
  });
  proxy.on('error', (err: Error, req: IncomingMessage) => {
    const job = (req as IncomingMessage & { job?: ForwardJob }).job;
    job?.onEnd(0, err);
  });
  return {
    forward(job) {
      if (job.rewriteBody !== undefined) {
        job.onEnd(0, new Error('the http-proxy-3 engine is for benchmarks only: no rewritten responses (ListTasks)'));
        return;
      }
      (job.req as IncomingMessage & { job?: ForwardJob }).job = job;
      proxy.web(job.req, job.res, { buffer: Readable.from(job.body ? [job.body] : []) });
    },
    fetch() {
      return Promise.reject(new Error('the http-proxy-3 engine is for benchmarks only: no card fetching'));
    },
    close: () => {
      proxy.close();
      agent.destroy();
      return Promise.resolve();
    },
    destroy: () => {
      proxy.close();
      agent.destroy();
      return Promise.resolve();
    },
  };
}
