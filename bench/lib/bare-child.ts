import './exit-with-parent.js';
import cluster from 'node:cluster';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

/**
 * Reference point for the benchmark: an https server forwarding with undici Pool.dispatch and nothing
 * else (no identity check, policy, limits, metrics or audit). gateway / bare = the cost of governance;
 * bare / direct = how this machine compares with the reference figures.
 *
 * `bare-child.js CFG [N]`: with N > 1, a node:cluster primary and N such workers sharing the port, as
 * `tollgate serve --workers N` runs: bench/workers.ts measures what N processes cost this machine for the
 * same proxying (the baseline its Tollgate 2/1 ratio is read against).
 */
const workers = Number(process.argv[3] ?? 1);
if (workers > 1 && cluster.isPrimary) {
  let listening = 0;
  cluster.on('listening', (_w, addr) => {
    if (++listening === workers) process.stdout.write(JSON.stringify({ port: addr.port }) + '\n');
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => process.exit(0));
} else serve();

function serve(): void {
  const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { keyPem: string; chainPem: string; rootPem: string; upstream: string };
  const pool = new Pool(cfg.upstream, {
    connections: 256,
    connect: { key: cfg.keyPem, cert: cfg.chainPem, ca: cfg.rootPem, rejectUnauthorized: true, servername: 'localhost' },
  });
  const server = https.createServer({ key: cfg.keyPem, cert: cfg.chainPem, ca: cfg.rootPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      /* eslint-disable @typescript-eslint/no-deprecated -- undici's raw callback API, the one the gateway's engine uses (proxy/upstream/undici.ts): the baseline must do the same work */
      pool.dispatch(
        { method: 'POST', path: '/', headers: ['content-type', 'application/json', 'content-length', String(body.length)], body },
        {
          onConnect() {},
          onHeaders(status: number, raw: Buffer[]) {
            const h: string[] = [];
            for (let i = 0; i < raw.length; i += 2) h.push(raw[i].toString('latin1'), raw[i + 1].toString('latin1'));
            res.writeHead(status, h);
            return true;
          },
          onData(c: Buffer) {
            return res.write(c);
          },
          onComplete() {
            res.end();
          },
          onError() {
            res.destroy();
          },
        },
      );
      /* eslint-enable @typescript-eslint/no-deprecated */
    });
  });
  server.keepAliveTimeout = 60_000;
  // in a cluster worker, port 0 is the one port the primary chose for all of them
  server.listen(0, '127.0.0.1', () => {
    if (cluster.isPrimary) process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n');
  });
  process.on('SIGTERM', () => process.exit(0));
}
