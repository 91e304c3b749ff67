/**
 * The whole gateway as `tollgate serve` runs it (gateway/tollgate.ts), in-process, on free ports, with
 * identities enrolled the way an operator does it: a join token from the CA, then agent-bootstrap over gRPC.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTollgate, type Tollgate } from '../../gateway/tollgate.js';
import { bootstrap } from '../../agent-bootstrap/index.js';
import type { SvidMaterial } from '../../agent-bootstrap/material.js';
import { startStandInUpstream, handlers, type StandInUpstream } from '../fakes/upstream.js';
import { mtlsClient, type MtlsClient } from '../fakes/mtls-client.js';
import { runCtl } from '../../cli/ctl/index.js';

export const TD = 'e2e.test';
export const id = (p: string) => `spiffe://${TD}/${p}`;

export interface E2e {
  tg: Tollgate;
  dir: string;
  configPath: string;
  control: string;
  proxyUrl: string;
  metricsUrl: string;
  enroll(spiffeId: string): Promise<SvidMaterial>;
  /** write an identity as `tollgate bootstrap --out` does (for `tollgate ctl --cert-dir`) */
  certDir(m: SvidMaterial): string;
  close(): Promise<void>;
}

export function baseConfig(extra = ''): string {
  return `trustDomain: ${TD}
listen: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }
admins: [${id('admin/ops')}]
audit: { path: AUDIT }
${extra}`;
}

export async function startE2e(configText: string, opts: { now?: () => number } = {}): Promise<E2e> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-e2e-'));
  const configPath = path.join(dir, 'tollgate.yaml');
  fs.writeFileSync(configPath, configText.replace('AUDIT', path.join(dir, 'audit.log')));
  const tg = await startTollgate({ configPath, dataDir: path.join(dir, 'data'), tickMs: 200, now: opts.now });
  const control = `127.0.0.1:${tg.ports.control}`;
  const fingerprint = tg.gateway.authority.rootFingerprint();
  return {
    tg,
    dir,
    configPath,
    control,
    proxyUrl: `https://127.0.0.1:${tg.ports.proxy}`,
    metricsUrl: `http://127.0.0.1:${tg.ports.metrics}`,
    async enroll(spiffeId) {
      const { token } = await tg.gateway.authority.createJoinToken(spiffeId);
      return bootstrap({ server: control, token, fingerprint });
    },
    certDir(m) {
      const d = fs.mkdtempSync(path.join(dir, 'id-'));
      fs.writeFileSync(path.join(d, 'key.pem'), m.keyPem, { mode: 0o600 });
      fs.writeFileSync(path.join(d, 'cert.pem'), m.certChainPem);
      fs.writeFileSync(path.join(d, 'bundle.pem'), m.bundlePem);
      return d;
    },
    async close() {
      await tg.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A v0.3 JSON-RPC `message/send` body with request id `rpcId`. */
export const messageSendBody = (rpcId: number) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: rpcId,
    method: 'message/send',
    params: { message: { kind: 'message', role: 'user', messageId: `m${rpcId}`, parts: [{ kind: 'text', text: 'go' }] } },
  });

export interface CallAnswer {
  status: number;
  json: { id?: number; error?: { code?: number; message: string; data?: Record<string, unknown> } };
}

/**
 * Agents enrolled on the gateway as stand-in mTLS upstreams answering every JSON-RPC call with a message, and
 * callers (agents and users) with mTLS clients holding their own SVIDs.
 */
export interface StandIns {
  upstreams: Record<string, StandInUpstream>;
  clients: Record<string, MtlsClient>;
  /** `from` sends a message/send to agent `to` through the gateway (`url`: another replica's proxy) */
  call(from: string, to: string, rpcId: number, headers?: Record<string, string>, url?: string): Promise<CallAnswer>;
  /** the delegation context the gateway sent with the last request agent `agent` received */
  lastContext(agent: string): string;
  /** `agents:` entries for the config file, one per stand-in agent */
  agentsYaml(): string;
  close(): Promise<void>;
}

export async function startStandIns(e: E2e, agents: readonly string[], users: readonly string[] = ['alice']): Promise<StandIns> {
  const upstreams: Record<string, StandInUpstream> = {};
  const clients: Record<string, MtlsClient> = {};
  for (const name of agents) {
    const m = await e.enroll(id(`agent/${name}`));
    upstreams[name] = await startStandInUpstream({ ...m, handler: handlers.jsonRpcOk() });
    clients[name] = mtlsClient(m, m.bundlePem);
  }
  for (const user of users) {
    const m = await e.enroll(id(`user/${user}`));
    clients[user] = mtlsClient(m, m.bundlePem);
  }
  return {
    upstreams,
    clients,
    async call(from, to, rpcId, headers = {}, url = e.proxyUrl) {
      const res = await clients[from].fetch(`${url}/a2a/${to}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: messageSendBody(rpcId),
      });
      return { status: res.status, json: (await res.json()) as CallAnswer['json'] };
    },
    lastContext: (agent) => upstreams[agent].requests.at(-1)!.headers['tollgate-delegation'] as string,
    agentsYaml: () => agents.map((n) => `  ${n}: { url: ${upstreams[n].url}, id: ${id(`agent/${n}`)} }`).join('\n'),
    async close() {
      for (const c of Object.values(clients)) await c.close();
      for (const u of Object.values(upstreams)) await u.close();
    },
  };
}

/** `tollgate ctl ARGS` in this process, against `control` with the admin identity in `certDir`. */
export async function adminCtl(args: string[], control: string, certDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCtl([...args, '--server', control, '--cert-dir', certDir, '--server-name', 'localhost'], {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

/** The value of one sample (`name{labels}`) on a gateway's /metrics, 0 when absent. */
export async function metricValue(metricsUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}
