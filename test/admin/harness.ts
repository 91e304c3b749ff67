/**
 * Test harness for the admin API, all real: the CA (ca/authority.ts openAuthority) in a temp data dir, the
 * control server (control/server.ts, TLS on port 0) serving Identity + Admin + health + reflection, the
 * SQLite settings store in the CA's own database file, and identities enrolled the way an operator does it:
 * a join token, then agent-bootstrap's `bootstrap()` over the network writing key.pem/cert.pem/bundle.pem.
 * Only the proxy side (applyConfig, call graph, task cancel) is a recording stand-in.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { openAuthority, type Authority } from '../../ca/authority.js';
import { bootstrap } from '../../agent-bootstrap/bootstrap.js';
import type { SvidMaterial } from '../../agent-bootstrap/material.js';
import { parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { startControlServer, type ControlServer } from '../../control/server.js';
import { createAdminService } from '../../control/admin/service.js';
import { createEventBus, type EventBus } from '../../control/admin/events.js';
import { openSqliteSettingsStore, type SettingsStore } from '../../control/admin/settings-store.js';
import { registerHealthAndReflection } from '../../control/admin/health.js';
import { ADMIN_PROTO, ADMIN_SERVICE_NAME, adminClientConstructor } from '../../protocol/admin.js';
import { makeIntermediate, makeLeaf, makeRoot, EKU_CLIENT } from '../pki.js';

export const TD = 'tollgate.test';
export const ADMIN_ID = `spiffe://${TD}/admin/ops`;
export const AGENT_ID = `spiffe://${TD}/agent/writer`;

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function baseConfig(extra: Record<string, unknown> = {}): Config {
  return parseConfig({
    trustDomain: TD,
    admins: [ADMIN_ID],
    agents: {
      writer: { url: 'https://127.0.0.1:9002', id: AGENT_ID },
      researcher: { url: 'https://127.0.0.1:9001', id: `spiffe://${TD}/agent/researcher`, requireDelegationContext: true },
    },
    policy: [{ from: `spiffe://${TD}/agent/researcher`, to: ['writer'], methods: ['message/send'] }],
    rateLimits: { perCaller: { rps: 10, burst: 20 } },
    ...extra,
  });
}

export interface Gateway {
  target: string;
  dataDir: string;
  authority: Authority;
  settings: SettingsStore;
  events: EventBus;
  config(): Config;
  applied: { config: Config; actor: string }[];
  cancelled: { taskId: string; actor: string }[];
  control: ControlServer;
  /** enroll an identity through the network; files are written to `outDir` when given */
  enroll(spiffeId: string, outDir?: string): Promise<SvidMaterial>;
  /** stop everything; the data dir stays (restart tests reopen it) */
  close(): Promise<void>;
}

export async function startGateway(opts: { dataDir?: string; config?: Config; fileConfig?: Config; watchBuffer?: number } = {}): Promise<Gateway> {
  const dataDir = opts.dataDir ?? tempDir('tollgate-admin-');
  const authority = await openAuthority({ dataDir, trustDomain: TD, revocationRefreshMs: 50 });
  const settings = openSqliteSettingsStore(dataDir);
  const events = createEventBus();
  let current = opts.config ?? baseConfig();
  const applied: Gateway['applied'] = [];
  const cancelled: Gateway['cancelled'] = [];
  const credentials = await authority.issueGatewayCredentials(`spiffe://${TD}/tollgate/gateway`, ['localhost', '127.0.0.1']);
  const admin = createAdminService({
    authority,
    admins: () => current.admins,
    trustDomain: TD,
    getConfig: () => current,
    fileConfig: () => opts.fileConfig ?? opts.config ?? baseConfig(),
    applyConfig: (next, actor) => {
      current = next;
      applied.push({ config: next, actor });
    },
    settings,
    graph: {
      json: (taskId) =>
        taskId === undefined ? { edges: [{ from: 'researcher', to: 'writer', calls: 3 }] } : taskId === 't-1' ? { task: 't-1', calls: [] } : undefined,
      dot: (taskId) => (taskId === undefined || taskId === 't-1' ? 'digraph tollgate {\n  "researcher" -> "writer";\n}\n' : undefined),
    },
    cancelTask: (taskId, actor) => {
      if (taskId !== 't-1') return false;
      cancelled.push({ taskId, actor });
      return true;
    },
    events,
    watchBuffer: opts.watchBuffer,
    log: { error() {} },
  });
  const control = await startControlServer({
    authority,
    credentials: () => credentials,
    listen: '127.0.0.1:0',
    extraServices: (server, ctx) => {
      admin(server, ctx);
      registerHealthAndReflection(server, ['tollgate/v1/identity.proto', ADMIN_PROTO], ['tollgate.v1.Identity', ADMIN_SERVICE_NAME]);
    },
    log: { error() {} },
  });
  const target = `127.0.0.1:${control.port}`;
  return {
    target,
    dataDir,
    authority,
    settings,
    events,
    config: () => current,
    applied,
    cancelled,
    control,
    async enroll(spiffeId, outDir) {
      const { token } = await authority.createJoinToken(spiffeId);
      return bootstrap({ server: target, token, fingerprint: authority.rootFingerprint(), outDir });
    },
    async close() {
      events.close();
      await control.close(1000);
      await settings.close();
      await authority.close();
    },
  };
}

/** Channel credentials presenting an enrolled identity, or none (TLS only). */
export function credsOf(gw: Gateway, who: SvidMaterial | null): grpc.ChannelCredentials {
  const ca = Buffer.from(gw.authority.bundlePem());
  if (!who) return grpc.credentials.createSsl(ca);
  return grpc.credentials.createSsl(ca, Buffer.from(who.keyPem), Buffer.from(who.certChainPem));
}

/** An SVID naming the admin, from a CA the gateway does not trust. */
export async function foreignAdminCreds(gw: Gateway): Promise<grpc.ChannelCredentials> {
  const root = await makeRoot({ trustDomain: TD, name: 'Impostor Root' });
  const inter = await makeIntermediate(root, { trustDomain: TD });
  const leaf = await makeLeaf(inter, { uris: [ADMIN_ID], eku: [EKU_CLIENT] });
  return grpc.credentials.createSsl(Buffer.from(gw.authority.bundlePem()), Buffer.from(leaf.keyPem), Buffer.from(leaf.pem + inter.pem));
}

/**
 * Channel options for a client dialling a test gateway by IP: the certificate is checked by the name it
 * carries (serverNames: localhost), so no IP is set as the TLS server name (Node's DEP0123 warning).
 */
export const BY_NAME: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': 'localhost' };

/** The admin methods by name, as grpc-js builds them from admin.proto (unary and streaming alike). */
export type AdminClient = grpc.Client & Record<string, (...args: any[]) => unknown>;

export function adminClient(target: string, creds: grpc.ChannelCredentials): AdminClient {
  const Ctor = adminClientConstructor();
  return new Ctor(target, creds, BY_NAME) as unknown as AdminClient;
}

/** Promisified unary call; rejects with the grpc ServiceError. */
export function call<T = any>(client: AdminClient, method: string, req: object): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: new Date(Date.now() + 10_000) }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

export async function expectStatus(p: Promise<unknown>, code: grpc.status): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    const err = e as grpc.ServiceError;
    if (err.code !== code) throw new Error(`expected ${grpc.status[code]}, got ${grpc.status[err.code]}: ${err.details}`, { cause: e });
    return err;
  }
  throw new Error(`expected ${grpc.status[code]}, but the call succeeded`);
}
