import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { ERROR_CODE_METADATA_KEY } from '../../protocol/errors.js';
import { openSqliteSettingsStore } from '../../control/admin/settings-store.js';
import { overlaySettings } from '../../control/admin/overlay.js';
import fs from 'node:fs';
import { newKeyAndCsr } from '../../agent-bootstrap/keys.js';
import type { SvidMaterial } from '../../agent-bootstrap/material.js';
import {
  ADMIN_ID,
  AGENT_ID,
  TD,
  adminClient,
  BY_NAME,
  baseConfig,
  call,
  credsOf,
  expectStatus,
  foreignAdminCreds,
  startGateway,
  type AdminClient,
  type Gateway,
} from './harness.js';

let gw: Gateway;
let adminId: SvidMaterial;
let agentId: SvidMaterial;
let admin: AdminClient;
const dataDirs: string[] = [];

beforeAll(async () => {
  gw = await startGateway();
  dataDirs.push(gw.dataDir);
  adminId = await gw.enroll(ADMIN_ID);
  agentId = await gw.enroll(AGENT_ID);
  admin = adminClient(gw.target, credsOf(gw, adminId));
});

afterAll(async () => {
  admin?.close();
  await gw?.close();
  for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Issue a certificate for `id` straight from the CA (no network needed for these). */
async function issue(id: string) {
  const { token } = await gw.authority.createJoinToken(id);
  const { csrDer } = await newKeyAndCsr();
  return gw.authority.bootstrap(token, csrDer);
}

describe('admin authorization', () => {
  it('lets an admin SVID in', async () => {
    const res = await call(admin, 'ListAgents', {});
    expect(res.agents.map((a: { name: string }) => a.name)).toEqual(['researcher', 'writer']);
  });

  it('refuses a valid agent SVID with PERMISSION_DENIED naming the identity', async () => {
    const agent = adminClient(gw.target, credsOf(gw, agentId));
    try {
      const err = await expectStatus(call(agent, 'ListAgents', {}), grpc.status.PERMISSION_DENIED);
      expect(err.details).toContain(AGENT_ID);
      expect(err.details).toContain('admins:');
      expect(err.metadata.get(ERROR_CODE_METADATA_KEY)).toEqual(['not_admin']);
      // every method goes through the same check, including writes and the event stream
      await expectStatus(call(agent, 'SetPolicy', { version: 0, rules: [] }), grpc.status.PERMISSION_DENIED);
      await expectStatus(call(agent, 'CreateJoinToken', { spiffeId: ADMIN_ID }), grpc.status.PERMISSION_DENIED);
      const stream = agent.WatchEvents({}) as grpc.ClientReadableStream<unknown>;
      const code = await new Promise<number>((resolve) => stream.on('error', (e: grpc.ServiceError) => resolve(e.code)));
      expect(code).toBe(grpc.status.PERMISSION_DENIED);
    } finally {
      agent.close();
    }
  });

  it('refuses a caller without a client certificate with UNAUTHENTICATED', async () => {
    const anon = adminClient(gw.target, credsOf(gw, null));
    try {
      const err = await expectStatus(call(anon, 'GetPolicy', {}), grpc.status.UNAUTHENTICATED);
      expect(err.details).toMatch(/client certificate/);
    } finally {
      anon.close();
    }
  });

  it('refuses an admin-named SVID from an untrusted CA with UNAUTHENTICATED', async () => {
    const foreign = adminClient(gw.target, await foreignAdminCreds(gw));
    try {
      await expectStatus(call(foreign, 'GetPolicy', {}), grpc.status.UNAUTHENTICATED);
    } finally {
      foreign.close();
    }
  });
});

describe('health and reflection', () => {
  it('answers grpc.health.v1.Health/Check for the server and the admin service', async () => {
    const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
    const Health = (grpc.loadPackageDefinition(def) as any).grpc.health.v1.Health as grpc.ServiceClientConstructor;
    const health = new Health(gw.target, credsOf(gw, null), BY_NAME) as any;
    try {
      for (const service of ['', 'tollgate.v1.Admin']) {
        const res = await new Promise<any>((resolve, reject) =>
          health.Check({ service }, (e: grpc.ServiceError | null, r: unknown) => (e ? reject(e) : resolve(r))),
        );
        expect(res.status).toBe('SERVING');
      }
      const unknown = new Promise((resolve, reject) =>
        health.Check({ service: 'no.Such' }, (e: grpc.ServiceError | null, r: unknown) => (e ? reject(e) : resolve(r))),
      );
      await expectStatus(unknown, grpc.status.NOT_FOUND);
    } finally {
      health.close();
    }
  });

  it('lists the services through server reflection (v1)', async () => {
    const require = createRequire(import.meta.url);
    const reflectionDir = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto');
    const def = protoLoader.loadSync('grpc/reflection/v1/reflection.proto', { keepCase: true, includeDirs: [reflectionDir] });
    const Reflection = (grpc.loadPackageDefinition(def) as any).grpc.reflection.v1.ServerReflection as grpc.ServiceClientConstructor;
    const client = new Reflection(gw.target, credsOf(gw, null), BY_NAME) as any;
    try {
      const stream = client.ServerReflectionInfo();
      const answer = new Promise<any>((resolve, reject) => {
        stream.on('data', resolve);
        stream.on('error', reject);
      });
      stream.write({ list_services: '' });
      const res = await answer;
      stream.end();
      const names = res.list_services_response.service.map((s: { name: string }) => s.name);
      expect(names).toEqual(expect.arrayContaining(['tollgate.v1.Admin', 'tollgate.v1.Identity', 'grpc.health.v1.Health']));
    } finally {
      client.close();
    }
  });

  // health and reflection load their implementations on the first call (control/admin/health.ts): the
  // streaming methods and v1alpha go through that path too
  it('answers Health/Watch and v1alpha reflection by symbol (implementations loaded on first call)', async () => {
    const hdef = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
    const Health = (grpc.loadPackageDefinition(hdef) as any).grpc.health.v1.Health as grpc.ServiceClientConstructor;
    const health = new Health(gw.target, credsOf(gw, null), BY_NAME) as any;
    const require = createRequire(import.meta.url);
    const reflectionDir = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto');
    const rdef = protoLoader.loadSync('grpc/reflection/v1alpha/reflection.proto', { keepCase: true, includeDirs: [reflectionDir] });
    const Reflection = (grpc.loadPackageDefinition(rdef) as any).grpc.reflection.v1alpha.ServerReflection as grpc.ServiceClientConstructor;
    const client = new Reflection(gw.target, credsOf(gw, null), BY_NAME) as any;
    try {
      const watch = health.Watch({ service: 'tollgate.v1.Admin' });
      const first = await new Promise<any>((resolve, reject) => {
        watch.on('data', resolve);
        watch.on('error', reject);
      });
      watch.cancel();
      expect(first.status).toBe('SERVING');
      const stream = client.ServerReflectionInfo();
      const answer = new Promise<any>((resolve, reject) => {
        stream.on('data', resolve);
        stream.on('error', reject);
      });
      stream.write({ file_containing_symbol: 'tollgate.v1.Admin' });
      const res = await answer;
      stream.end();
      expect(res.file_descriptor_response.file_descriptor_proto.length).toBeGreaterThan(0);
    } finally {
      health.close();
      client.close();
    }
  });
});

describe('policy', () => {
  it('sets the policy with the current version, applies it at once and refuses a stale version with ABORTED', async () => {
    const before = await call<{ version: number }>(admin, 'GetPolicy', {});
    const rules = [{ from: [`spiffe://${TD}/user/*`], to: ['writer', 'researcher'], methods: [] }];
    const set = await call(admin, 'SetPolicy', { version: before.version, rules });
    expect(set.version).toBe(before.version + 1);
    expect(gw.config().policy).toEqual([{ from: `spiffe://${TD}/user/*`, to: ['writer', 'researcher'] }]);
    expect(gw.applied.at(-1)?.actor).toBe(ADMIN_ID);

    const appliedBefore = gw.applied.length;
    const stale = await expectStatus(call(admin, 'SetPolicy', { version: before.version, rules: [] }), grpc.status.ABORTED);
    expect(stale.details).toContain(`current version ${set.version}`);
    expect(gw.applied.length).toBe(appliedBefore); // not merged, not applied
    expect(gw.config().policy).toHaveLength(1);
    expect((await call(admin, 'GetPolicy', {})).version).toBe(set.version);
  });

  it('refuses a rule naming an unknown agent with INVALID_ARGUMENT naming the field', async () => {
    const { version } = await call(admin, 'GetPolicy', {});
    const err = await expectStatus(
      call(admin, 'SetPolicy', { version, rules: [{ from: [AGENT_ID], to: ['nobody'], methods: [] }] }),
      grpc.status.INVALID_ARGUMENT,
    );
    expect(err.details).toContain('policy.0.to.0');
    expect(err.details).toContain('unknown agent "nobody"');
  });

  it('refuses a malformed caller pattern naming the field', async () => {
    const { version } = await call(admin, 'GetPolicy', {});
    const err = await expectStatus(
      call(admin, 'SetPolicy', { version, rules: [{ from: ['http://x/y'], to: ['*'], methods: [] }] }),
      grpc.status.INVALID_ARGUMENT,
    );
    expect(err.details).toMatch(/^invalid policy: policy\.0\.from/);
  });
});

describe('join tokens', () => {
  it("refuses a token for the gateway's reserved namespace with PERMISSION_DENIED naming it", async () => {
    for (const spiffeId of [`spiffe://${TD}/tollgate/gateway`, `spiffe://${TD}/tollgate/x`]) {
      const err = await expectStatus(call(admin, 'CreateJoinToken', { spiffeId }), grpc.status.PERMISSION_DENIED);
      expect(err.details).toContain(`the namespace spiffe://${TD}/tollgate/ is reserved for the gateway's own identity`);
    }
  });
});

describe('agents', () => {
  it('refuses an http:// upstream with INVALID_ARGUMENT naming the field', async () => {
    const err = await expectStatus(
      call(admin, 'PutAgent', { agent: { name: 'mailer', url: 'http://127.0.0.1:9010', id: `spiffe://${TD}/agent/mailer` } }),
      grpc.status.INVALID_ARGUMENT,
    );
    expect(err.details).toContain('agents.mailer.url');
    expect(err.details).toContain('https://');
    expect(gw.config().agents.mailer).toBeUndefined();
  });

  it('refuses a bad agent name naming the field', async () => {
    const err = await expectStatus(
      call(admin, 'PutAgent', { agent: { name: 'Bad Name', url: 'https://127.0.0.1:9010', id: `spiffe://${TD}/agent/x` } }),
      grpc.status.INVALID_ARGUMENT,
    );
    expect(err.details).toContain('agents.Bad Name');
  });

  it('registers, updates (with an optional version check) and removes an agent', async () => {
    const { version } = await call<{ version: number }>(admin, 'ListAgents', {});
    const put = await call(admin, 'PutAgent', {
      agent: { name: 'mailer', url: 'https://127.0.0.1:9010', id: `spiffe://${TD}/agent/mailer`, maxRevisits: 1, limits: { callsPerMinute: 30 } },
      expectedVersion: version,
    });
    expect(put).toMatchObject({ created: true, version: version + 1 });
    expect(gw.config().agents.mailer).toEqual({
      url: 'https://127.0.0.1:9010',
      id: `spiffe://${TD}/agent/mailer`,
      requireDelegationContext: false,
      maxRevisits: 1,
      limits: { callsPerMinute: 30 },
    });

    await expectStatus(
      call(admin, 'PutAgent', { agent: { name: 'mailer', url: 'https://127.0.0.1:9011', id: `spiffe://${TD}/agent/mailer` }, expectedVersion: version }),
      grpc.status.ABORTED,
    );
    const upd = await call(admin, 'PutAgent', { agent: { name: 'mailer', url: 'https://127.0.0.1:9011', id: `spiffe://${TD}/agent/mailer` } });
    expect(upd.created).toBe(false);
    expect(gw.config().agents.mailer.url).toBe('https://127.0.0.1:9011');

    const rm = await call(admin, 'RemoveAgent', { name: 'mailer' });
    expect(rm.removed).toBe(true);
    expect(gw.config().agents.mailer).toBeUndefined();
    expect((await call(admin, 'RemoveAgent', { name: 'mailer' })).removed).toBe(false);
  });

  it('refuses to remove an agent the policy still names (FAILED_PRECONDITION)', async () => {
    const { version } = await call(admin, 'GetPolicy', {});
    await call(admin, 'SetPolicy', { version, rules: [{ from: [AGENT_ID], to: ['researcher'], methods: [] }] });
    const err = await expectStatus(call(admin, 'RemoveAgent', { name: 'researcher' }), grpc.status.FAILED_PRECONDITION);
    expect(err.details).toContain('policy.0.to.0');
    expect(gw.config().agents.researcher).toBeDefined();
  });
});

describe('limits', () => {
  it('sets rate limits with the config schema and refuses a bad field', async () => {
    const cur = await call<{ version: number; rateLimitsJson: string }>(admin, 'GetLimits', {});
    expect(JSON.parse(cur.rateLimitsJson)).toEqual({ perCaller: { rps: 10, burst: 20 } });
    const bad = await expectStatus(
      call(admin, 'SetLimits', { version: cur.version, rateLimitsJson: JSON.stringify({ perCaller: { rps: -1, burst: 2 } }) }),
      grpc.status.INVALID_ARGUMENT,
    );
    expect(bad.details).toContain('rateLimits.perCaller.rps');
    const set = await call(admin, 'SetLimits', {
      version: cur.version,
      rateLimitsJson: JSON.stringify({ perEdge: { rps: 5, burst: 5 } }),
      delegationJson: JSON.stringify({ maxDepth: 4, tokenTtl: '5m' }),
    });
    expect(set.version).toBe(cur.version + 1);
    expect(gw.config().rateLimits).toEqual({ perEdge: { rps: 5, burst: 5 } });
    expect(gw.config().delegation.maxDepth).toBe(4);
    expect(gw.config().delegation.tokenTtl).toBe(300_000);
    await expectStatus(call(admin, 'SetLimits', { version: cur.version, rateLimitsJson: '{}' }), grpc.status.ABORTED);
  });
});

describe('identities, certificates, graph, tasks', () => {
  it('creates a join token for an identity of the trust domain only', async () => {
    const res = await call(admin, 'CreateJoinToken', { spiffeId: `spiffe://${TD}/agent/new`, ttl: '5m' });
    const redeemed = await gw.authority.bootstrap(res.token, (await newKeyAndCsr()).csrDer);
    expect(redeemed.spiffeId).toBe(`spiffe://${TD}/agent/new`);
    expect(res.expiresAtUnixMs - Date.now()).toBeGreaterThan(200_000);
    await expectStatus(call(admin, 'CreateJoinToken', { spiffeId: 'spiffe://other.org/agent/x' }), grpc.status.INVALID_ARGUMENT);
    await expectStatus(call(admin, 'CreateJoinToken', { spiffeId: `spiffe://${TD}/agent/x`, ttl: 'soon' }), grpc.status.INVALID_ARGUMENT);
    const bad = await expectStatus(call(admin, 'CreateJoinToken', { spiffeId: 'not-an-id' }), grpc.status.INVALID_ARGUMENT);
    expect(bad.details).toContain('spiffe://');
  });

  it('revokes by identity or serial and lists certificates', async () => {
    const old = `spiffe://${TD}/agent/old`;
    const a = await issue(old);
    const b = await issue(old);
    const other = await issue(`spiffe://${TD}/agent/other`);
    const listed = await call(admin, 'ListCertificates', { spiffeId: old });
    expect(listed.certificates.map((c: { serial: string }) => c.serial).sort()).toEqual([a.serial, b.serial].sort());
    expect(listed.certificates.every((c: { revoked: boolean }) => !c.revoked)).toBe(true);

    expect((await call(admin, 'Revoke', { spiffeId: old, reason: 'test' })).certificatesRevoked).toBe(2);
    expect(gw.authority.isRevoked(a.serial, old)).toBe(true);
    const upper = other.serial
      .toUpperCase()
      .match(/.{1,2}/g)!
      .join(':'); // as openssl prints serials
    expect((await call(admin, 'Revoke', { serial: upper })).certificatesRevoked).toBe(1);
    expect(gw.authority.isRevoked(other.serial, other.spiffeId)).toBe(true);
    await expectStatus(call(admin, 'Revoke', {}), grpc.status.INVALID_ARGUMENT);
    await expectStatus(call(admin, 'Revoke', { spiffeId: old, serial: a.serial }), grpc.status.INVALID_ARGUMENT);
    await expectStatus(call(admin, 'Revoke', { serial: 'xyz' }), grpc.status.INVALID_ARGUMENT);
    const after = await call(admin, 'ListCertificates', { spiffeId: old });
    expect(after.certificates.every((c: { revoked: boolean }) => c.revoked)).toBe(true);
  });

  it('stops honouring a revoked admin certificate at once', async () => {
    const second = `spiffe://${TD}/admin/second`;
    const cfg = gw.config();
    gw.config().admins.push(second); // the stand-in proxy's live config: admins() is read per call
    const mat = await gw.enroll(second);
    const client = adminClient(gw.target, credsOf(gw, mat));
    try {
      await call(client, 'GetPolicy', {});
      await call(admin, 'Revoke', { serial: mat.serial });
      const err = await expectStatus(call(client, 'GetPolicy', {}), grpc.status.PERMISSION_DENIED);
      expect(err.metadata.get(ERROR_CODE_METADATA_KEY)).toEqual(['revoked']);
    } finally {
      client.close();
      cfg.admins.splice(cfg.admins.indexOf(second), 1);
    }
  });

  it('returns the call graph as JSON or DOT and NOT_FOUND for an unknown task', async () => {
    const agg = await call(admin, 'GetCallGraph', {});
    expect(JSON.parse(agg.json)).toEqual({ edges: [{ from: 'researcher', to: 'writer', calls: 3 }] });
    const dot = await call(admin, 'GetCallGraph', { taskId: 't-1', format: 'dot' });
    expect(dot.dot).toContain('digraph');
    await expectStatus(call(admin, 'GetCallGraph', { taskId: 'nope' }), grpc.status.NOT_FOUND);
    await expectStatus(call(admin, 'GetCallGraph', { format: 'svg' }), grpc.status.INVALID_ARGUMENT);
  });

  it('cancels a root task on behalf of the admin', async () => {
    expect((await call(admin, 'CancelTask', { taskId: 't-1' })).cancelled).toBe(true);
    expect(gw.cancelled.at(-1)).toEqual({ taskId: 't-1', actor: ADMIN_ID });
    expect((await call(admin, 'CancelTask', { taskId: 't-2' })).cancelled).toBe(false);
  });
});

describe('WatchEvents', () => {
  function watch(req: object) {
    const stream = admin.WatchEvents(req) as grpc.ClientReadableStream<any>;
    const events: any[] = [];
    stream.on('data', (e) => events.push(e));
    stream.on('error', () => {});
    const live = new Promise<void>((resolve) => stream.on('metadata', () => resolve()));
    return { stream, events, live };
  }

  it('streams a config event with the admin as actor, filtered by agent and kind', async () => {
    const all = watch({});
    const mailerConfig = watch({ agents: ['mailer'], kinds: ['config'] });
    const writerOnly = watch({ agents: ['writer'] });
    const revocations = watch({ kinds: ['revocation'] });
    await Promise.all([all.live, mailerConfig.live, writerOnly.live, revocations.live]);

    await call(admin, 'PutAgent', { agent: { name: 'mailer', url: 'https://127.0.0.1:9010', id: `spiffe://${TD}/agent/mailer` } });
    gw.events.publish({
      time: Date.now(),
      kind: 'call',
      actor: `spiffe://${TD}/agent/researcher`,
      agent: 'writer',
      summary: 'researcher -> writer message/send',
    });
    await call(admin, 'RemoveAgent', { name: 'mailer' });

    await expect.poll(() => all.events.length).toBe(3);
    await expect.poll(() => mailerConfig.events.length).toBe(2);
    const first = mailerConfig.events[0];
    expect(first).toMatchObject({ kind: 'config', actor: ADMIN_ID, agent: 'mailer' });
    expect(first.summary).toContain('agent mailer registered');
    expect(JSON.parse(first.json)).toMatchObject({ kind: 'config', actor: ADMIN_ID, data: { section: 'agents', op: 'create', name: 'mailer' } });
    await expect.poll(() => writerOnly.events.length).toBe(1);
    expect(writerOnly.events[0].kind).toBe('call');
    expect(revocations.events).toHaveLength(0);
    for (const w of [all, mailerConfig, writerOnly, revocations]) w.stream.cancel();
    await expect.poll(() => gw.events.subscribers).toBe(0);
  });

  it('disconnects a watcher that falls behind with RESOURCE_EXHAUSTED, never blocking publish', async () => {
    const small = await startGateway({ watchBuffer: 2 });
    dataDirs.push(small.dataDir);
    const client = adminClient(small.target, credsOf(small, await small.enroll(ADMIN_ID)));
    try {
      const stream = client.WatchEvents({}) as grpc.ClientReadableStream<unknown>;
      const got: unknown[] = [];
      stream.on('data', (e) => got.push(e));
      await new Promise<void>((resolve) => stream.on('metadata', () => resolve()));
      const failed = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      // Five events in one tick: the watcher's queue (bound 2) overflows before it can be flushed.
      for (let i = 0; i < 5; i++) small.events.publish({ time: Date.now(), kind: 'call', actor: AGENT_ID, agent: 'writer', summary: `call ${i}` });
      const err = await failed;
      expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(err.details).toContain('reconnect');
      expect(got).toHaveLength(0);
      expect(small.events.subscribers).toBe(0);
    } finally {
      client.close();
      await small.close();
    }
  });

  it('refuses an unknown kind with INVALID_ARGUMENT', async () => {
    const stream = admin.WatchEvents({ kinds: ['nonsense'] }) as grpc.ClientReadableStream<unknown>;
    const err = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('nonsense');
  });
});

describe('settings persistence', () => {
  it('persists admin changes and overlays them on the file config after a restart', async () => {
    const first = await startGateway();
    dataDirs.push(first.dataDir);
    const firstAdmin = await first.enroll(ADMIN_ID);
    const client = adminClient(first.target, credsOf(first, firstAdmin));
    try {
      const { version } = await call(client, 'GetPolicy', {});
      await call(client, 'SetPolicy', { version, rules: [{ from: [`spiffe://${TD}/user/*`], to: ['*'], methods: ['message/send'] }] });
      await call(client, 'PutAgent', { agent: { name: 'mailer', url: 'https://127.0.0.1:9010', id: `spiffe://${TD}/agent/mailer` } });
    } finally {
      client.close();
      await first.close();
    }

    // "Restart": a fresh store on the same data dir, the unchanged file config, then the overlay.
    const store = openSqliteSettingsStore(first.dataDir);
    try {
      const fileConfig = baseConfig();
      const { config: running } = await overlaySettings(fileConfig, store);
      expect(running.policy).toEqual([{ from: `spiffe://${TD}/user/*`, to: '*', methods: ['message/send'] }]);
      expect(Object.keys(running.agents).sort()).toEqual(['mailer', 'researcher', 'writer']);
      expect(running.rateLimits).toEqual(fileConfig.rateLimits); // never set through the API: the file wins
      expect(await store.get('policy')).toMatchObject({ version: 1, updatedBy: ADMIN_ID });
    } finally {
      await store.close();
    }

    // And a gateway started on that overlay serves the saved version.
    const reopened = openSqliteSettingsStore(first.dataDir);
    const { config: overlaid } = await overlaySettings(baseConfig(), reopened);
    await reopened.close();
    const second = await startGateway({ dataDir: first.dataDir, config: overlaid });
    const client2 = adminClient(second.target, credsOf(second, firstAdmin)); // same CA: the admin SVID still works
    try {
      const p = await call(client2, 'GetPolicy', {});
      expect(p.version).toBe(1);
      expect(p.rules).toEqual([{ from: [`spiffe://${TD}/user/*`], to: ['*'], methods: ['message/send'], nonA2a: false, chainJson: '' }]);
    } finally {
      client2.close();
      await second.close();
    }
  });
});

describe('settings reset', () => {
  it('puts the config file back in charge, now and after a restart, and refuses a reset that would not validate', async () => {
    const own = await startGateway();
    dataDirs.push(own.dataDir);
    const ownAdmin = await own.enroll(ADMIN_ID);
    const client = adminClient(own.target, credsOf(own, ownAdmin));
    const file = baseConfig();
    try {
      // saved through the API: a new agent, a policy naming it, other limits
      await call(client, 'PutAgent', { agent: { name: 'mailer', url: 'https://127.0.0.1:9010', id: `spiffe://${TD}/agent/mailer` } });
      const p = await call(client, 'GetPolicy', {});
      await call(client, 'SetPolicy', { version: p.version, rules: [{ from: [`spiffe://${TD}/user/*`], to: ['mailer'], methods: [] }] });
      const l = await call(client, 'GetLimits', {});
      await call(client, 'SetLimits', { version: l.version, rateLimitsJson: JSON.stringify({ perEdge: { rps: 5, burst: 5 } }), delegationJson: '' });
      const saved = own.config();

      // the registry alone cannot go back: the saved policy names mailer, which only the saved registry has
      const applied = own.applied.length;
      const refused = await expectStatus(call(client, 'ResetSettings', { sections: ['agents'] }), grpc.status.FAILED_PRECONDITION);
      expect(refused.details).toContain('resetting agents to the config file would leave an invalid config');
      expect(refused.details).toContain('policy.0.to.0');
      expect(own.applied.length).toBe(applied);
      expect(own.config()).toBe(saved);
      expect(await own.settings.versions()).toEqual({ agents: 1, policy: 1, limits: 1 });
      await expectStatus(call(client, 'ResetSettings', { sections: ['rules'] }), grpc.status.INVALID_ARGUMENT);

      // agents and policy together, then limits: the file's sections run at once; versions move on
      const both = await call(client, 'ResetSettings', { sections: ['policy', 'agents'] });
      expect(both).toMatchObject({ reset: ['agents', 'policy'], agentsVersion: 2, policyVersion: 2, limitsVersion: 1 });
      expect(own.config().agents).toEqual(file.agents);
      expect(own.config().policy).toEqual(file.policy);
      expect(own.config().rateLimits).toEqual({ perEdge: { rps: 5, burst: 5 } });
      expect(own.applied.at(-1)?.actor).toBe(ADMIN_ID);
      expect(await call(client, 'ResetSettings', {})).toMatchObject({ reset: ['limits'], limitsVersion: 2 });
      expect(own.config().rateLimits).toEqual(file.rateLimits);
      expect(await call(client, 'ResetSettings', {})).toMatchObject({ reset: [], agentsVersion: 2, policyVersion: 2, limitsVersion: 2 });
      expect((await call(client, 'GetPolicy', {})).version).toBe(2);
    } finally {
      client.close();
      await own.close();
    }

    // "Restart" on a config file that changed meanwhile: its sections apply, not the ones saved before the reset
    const edited = baseConfig({ policy: [{ from: `spiffe://${TD}/agent/writer`, to: ['researcher'] }] });
    const store = openSqliteSettingsStore(own.dataDir);
    try {
      const { config, versions } = await overlaySettings(edited, store);
      expect(config).toEqual(edited);
      expect(versions).toEqual({ agents: 2, policy: 2, limits: 2 });
      // and the next write through the API is saved again, on top of the reset version
      await store.put('policy', [], 2);
      expect((await overlaySettings(edited, store)).config.policy).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
