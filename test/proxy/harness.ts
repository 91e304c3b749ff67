import { parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { startProxy, createMetrics, type ProxyHandle, type Governance, type AuditLog, type GatewayMetrics } from '../../proxy/index.js';
import { makeTrustDomain, type TestIdentity, type TestTrustDomain } from '../fakes/trust-domain.js';
import { mtlsClient, type MtlsClient } from '../fakes/mtls-client.js';
import { startStandInUpstream, type StandInUpstream, type UpstreamHandler } from '../fakes/upstream.js';
import type { GatewayCredentials } from '../../ca/api.js';
import type { TaskOwners } from '../../proxy/a2a/task-owners.js';

/** A gateway with a stand-in upstream "echo" and callers alice (allowed) and mallory (no rule). */
export interface Harness {
  td: TestTrustDomain;
  creds: GatewayCredentials;
  gw: ProxyHandle;
  metrics: GatewayMetrics;
  upstream: StandInUpstream;
  /** the identity the stand-in upstream "echo" presents */
  echo: TestIdentity;
  alice: TestIdentity;
  mallory: TestIdentity;
  revoked: Set<string>;
  base: string;
  client(id: TestIdentity): MtlsClient;
  config(extra?: Record<string, unknown>): Config;
  close(): Promise<void>;
}

export const TD = 'example.org';
export const ALICE = `spiffe://${TD}/agent/alice`;
export const MALLORY = `spiffe://${TD}/agent/mallory`;
export const ECHO_ID = `spiffe://${TD}/agent/echo`;

export async function startHarness(
  opts: {
    extraConfig?: Record<string, unknown>;
    handler?: UpstreamHandler;
    governance?: Governance;
    audit?: AuditLog;
    now?: () => number;
    td?: TestTrustDomain;
    taskOwners?: TaskOwners;
  } = {},
): Promise<Harness> {
  const td = opts.td ?? (await makeTrustDomain(TD));
  let creds = await td.gatewayCredentials();
  const echoId = await td.issue(ECHO_ID, { dns: ['localhost'], ips: ['127.0.0.1'] });
  const upstream = await startStandInUpstream({ keyPem: echoId.keyPem, certChainPem: echoId.certChainPem, bundlePem: td.bundlePem, handler: opts.handler });
  const alice = await td.issue(ALICE);
  const mallory = await td.issue(MALLORY);
  const revoked = new Set<string>();
  const config = (extra: Record<string, unknown> = {}) =>
    parseConfig({
      trustDomain: TD,
      listen: { proxy: '127.0.0.1:0', control: '127.0.0.1:0', metrics: '127.0.0.1:0' },
      agents: { echo: { url: upstream.url, id: ECHO_ID } },
      policy: [{ from: ALICE, to: ['echo'] }],
      ...opts.extraConfig,
      ...extra,
    });
  const metrics = createMetrics({ processMetrics: false });
  const gw = await startProxy({
    config: config(),
    credentials: () => creds,
    revocation: { isRevoked: (serial, id) => revoked.has(serial) || revoked.has(id) },
    metrics,
    audit: opts.audit,
    governance: opts.governance,
    now: opts.now,
    taskOwners: opts.taskOwners,
  });
  const clients: MtlsClient[] = [];
  const h: Harness = {
    td,
    get creds() {
      return creds;
    },
    set creds(c: GatewayCredentials) {
      creds = c;
    },
    gw,
    metrics,
    upstream,
    echo: echoId,
    alice,
    mallory,
    revoked,
    base: `https://127.0.0.1:${gw.port}`,
    client(id) {
      const c = mtlsClient(id, td.bundlePem);
      clients.push(c);
      return c;
    },
    config,
    async close() {
      await Promise.all(clients.map((c) => c.agent.destroy()));
      await gw.close(100);
      await upstream.close();
    },
  };
  return h;
}

export const SEND = (id: number | string = 1, text = 'hi') =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'message/send',
    params: { message: { kind: 'message', role: 'user', messageId: `m-${id}`, parts: [{ kind: 'text', text }] } },
  });

/** POST a body through the gateway; returns status, headers and parsed JSON (or text). */
export async function post(c: MtlsClient, url: string, body: string, headers: Record<string, string> = {}) {
  const r = await c.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

export async function get(c: MtlsClient, url: string, headers: Record<string, string> = {}) {
  const r = await c.fetch(url, { headers });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

import https from 'node:https';
/** A request with node:https (lets a test send headers fetch forbids, e.g. Connection tokens). */
export function rawRequest(
  id: TestIdentity,
  bundlePem: string,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; agent?: https.Agent } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, key: id.keyPem, cert: id.certChainPem, ca: bundlePem, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        const reused = (res.socket as import('node:tls').TLSSocket).isSessionReused();
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), reused }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
