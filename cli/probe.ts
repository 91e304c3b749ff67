/**
 * "cannot reach X" with OpenSSL internals in it is no help when X is simply the wrong port. When a control
 * call fails to connect, the CLI looks at what listens there instead: nothing, plain HTTP (the metrics
 * listener), the gateway's A2A proxy, an agent, or some other TLS server, and says so in words.
 */
import net from 'node:net';
import tls from 'node:tls';
import { parseHostPort } from '../control/listen.js';
import { BootstrapError } from '../agent-bootstrap/errors.js';
import { CliError } from './errors.js';

export type Listener =
  | { kind: 'nothing' }
  | { kind: 'plain-http'; tollgateMetrics: boolean }
  | { kind: 'not-tls' }
  | { kind: 'tls'; alpn: string | false; spiffeId?: string }
  | { kind: 'unknown'; detail: string };

function uriSan(cert: tls.PeerCertificate | undefined): string | undefined {
  // for a description only (nothing is trusted on it): the first URI SAN as Node prints it
  return /URI:(spiffe:\/\/[^,\s]+)/.exec(cert?.subjectaltname ?? '')?.[1];
}

function tlsProbe(host: string, port: number, timeoutMs: number): Promise<Listener> {
  return new Promise((resolve) => {
    const servername = net.isIP(host) ? undefined : host;
    const s = tls.connect({ host, port, servername, rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'], timeout: timeoutMs });
    const done = (l: Listener) => {
      s.destroy();
      resolve(l);
    };
    s.once('secureConnect', () => done({ kind: 'tls', alpn: s.alpnProtocol ?? false, spiffeId: uriSan(s.getPeerCertificate()) }));
    s.once('timeout', () => done({ kind: 'unknown', detail: 'no TLS answer in time' }));
    s.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') done({ kind: 'nothing' });
      else if (/wrong version number|packet length too long|unknown protocol|http request/i.test(e.message)) done({ kind: 'not-tls' });
      else done({ kind: 'unknown', detail: e.code ?? e.message });
    });
  });
}

async function httpProbe(host: string, port: number, timeoutMs: number): Promise<Listener> {
  try {
    const res = await fetch(`http://${net.isIPv6(host) ? `[${host}]` : host}:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { kind: 'plain-http', tollgateMetrics: body.includes('tollgate_') };
  } catch {
    return { kind: 'not-tls' };
  }
}

/** What listens at HOST:PORT, as far as a short look can tell. Never throws. */
export async function probeListener(server: string, timeoutMs = 2000): Promise<Listener> {
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseHostPort(server));
  } catch (e) {
    return { kind: 'unknown', detail: (e as Error).message };
  }
  const l = await tlsProbe(host, port, timeoutMs);
  return l.kind === 'not-tls' ? httpProbe(host, port, timeoutMs) : l;
}

/**
 * The sentence for a control-API client that could not connect, or undefined when the listener looks
 * right (a TLS server speaking HTTP/2, as gRPC does) and the original error should stand.
 */
export function describeWrongListener(l: Listener): string | undefined {
  switch (l.kind) {
    case 'nothing':
      return 'nothing is listening there';
    case 'plain-http':
      return l.tollgateMetrics
        ? "that is the gateway's metrics listener (plain HTTP, listen.metrics), not its control listener"
        : 'it speaks plain HTTP, not the TLS + gRPC of a control listener';
    case 'not-tls':
      return 'it does not speak TLS: it is not a Tollgate control listener';
    case 'tls':
      if (l.alpn === 'h2') return undefined;
      if (l.spiffeId?.endsWith('/tollgate/gateway')) return "that is the gateway's A2A proxy listener (listen.proxy, HTTPS), not its control listener (gRPC)";
      if (l.spiffeId) return `that is an HTTPS server with the identity ${l.spiffeId} (an agent?), not the gateway's control listener`;
      return 'that is a TLS server that does not speak gRPC (HTTP/2): not a Tollgate control listener';
    case 'unknown':
      return undefined;
  }
}

const CONTROL_HINT = 'pass --server with the listen.control address of `tollgate serve` (default 127.0.0.1:8444)';

/** Runs `call`; when it fails because the CA could not be reached, says what listens at `server` instead. */
export async function explainingWrongPort<T>(server: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof BootstrapError) || e.code !== 'unavailable') throw e;
    const sentence = describeWrongListener(await probeListener(server));
    if (sentence === undefined) throw e;
    throw new CliError(`cannot reach the Tollgate CA at ${server}: ${sentence}`, CONTROL_HINT);
  }
}

/** The same for `tollgate ctl`: the line to print, or undefined to keep the gRPC explanation. */
export async function wrongPortLine(server: string): Promise<string | undefined> {
  const sentence = describeWrongListener(await probeListener(server));
  return sentence === undefined ? undefined : `cannot reach the gateway's control listener at ${server}: ${sentence}; ${CONTROL_HINT}`;
}
