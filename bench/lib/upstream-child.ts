import './exit-with-parent.js';
import https from 'node:https';
import { readFileSync } from 'node:fs';

/**
 * The stand-in upstream of the benchmark (its own process, pinned by the parent): an mTLS server that
 * reads the request and answers a ~150-byte JSON-RPC result. Prints {"port":N} when listening.
 */
const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { keyPem: string; chainPem: string; rootPem: string };
const answer = Buffer.from(
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    result: { kind: 'message', role: 'agent', messageId: 'b7f0c1de-0000-4000-8000-000000000001', parts: [{ kind: 'text', text: 'ok' }] },
  }),
);
const server = https.createServer({ key: cfg.keyPem, cert: cfg.chainPem, ca: cfg.rootPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
