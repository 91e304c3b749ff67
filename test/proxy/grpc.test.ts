import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import http2 from 'node:http2';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Role } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver } from '@a2a-js/sdk/client';
import { GrpcTransportFactory } from '@a2a-js/sdk/client/grpc';
import { A2AService } from '@a2a-js/sdk/server/grpc';
import { startHarness, get, ALICE, MALLORY, ECHO_ID, TD, type Harness } from './harness.js';
import { makeTrustDomain, type TestIdentity } from '../fakes/trust-domain.js';
import { startA2aAgent, echoExecutor, slowTaskExecutor, textPart, type RunningAgent } from '../fakes/a2a-agent.js';
import { createAuditLog } from '../../proxy/index.js';
import { parseConfig } from '../../config/load.js';
import { createDelegationStage, KeyRing, type DelegationStage } from '../../governance/delegation/index.js';

/**
 * The A2A gRPC binding through the gateway, end to end with real parts: the @a2a-js/sdk gRPC server
 * (grpcService over @grpc/grpc-js, mTLS with its SVID) behind the gateway, the SDK's gRPC client following
 * the card the gateway serves, and a plain grpc-js client with the SDK's service definition for statuses.
 */
const G1 = `spiffe://${TD}/agent/g1`;
const GSLOW = `spiffe://${TD}/agent/gslow`;

function userMessage(text: string) {
  return {
    messageId: randomUUID(),
    role: Role.ROLE_USER,
    parts: [textPart(text)],
    contextId: '',
    taskId: '',
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

function sendRequest(tenant: string, text = 'hi') {
  return { tenant, message: userMessage(text), configuration: undefined, metadata: undefined };
}

const A2AClient = grpc.makeGenericClientConstructor(A2AService, 'A2AService');
type RawClient = grpc.Client & Record<string, (...a: unknown[]) => unknown>;

describe('the A2A gRPC binding through the gateway (h2)', () => {
  let h: Harness;
  let g1: RunningAgent;
  let gslow: RunningAgent;
  let stage: DelegationStage;
  let dir: string;
  let auditPath: string;
  const tenantsSeen: { agent: string; method: string; tenant: string | undefined }[] = [];
  let agents: Record<string, unknown>;
  const policy = [
    { from: ALICE, to: ['g1', 'gslow', 'echo'] },
    { from: MALLORY, to: ['echo'] },
  ];

  const creds = (id: TestIdentity) => grpc.credentials.createSsl(Buffer.from(h.td.bundlePem), Buffer.from(id.keyPem), Buffer.from(id.certChainPem));
  const raw = (id: TestIdentity): RawClient => new A2AClient(`127.0.0.1:${h.gw.port}`, creds(id)) as unknown as RawClient;
  const unary = (c: RawClient, method: string, req: unknown, md = new grpc.Metadata()) => {
    md.set('a2a-version', '1.0');
    return new Promise<{ err: grpc.ServiceError | null; res: unknown; trailers: grpc.Metadata | undefined }>((resolve) => {
      let trailers: grpc.Metadata | undefined;
      const call = c[method](req, md, (err: grpc.ServiceError | null, res: unknown) =>
        resolve({ err, res, trailers: err?.metadata ?? trailers }),
      ) as grpc.ClientUnaryCall;
      call.on('status', (s: grpc.StatusObject) => (trailers = s.metadata));
    });
  };
  const sdkClient = async (id: TestIdentity, agent: string) => {
    const c = h.client(id);
    const f = new ClientFactory(
      ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
        transports: [new GrpcTransportFactory({ grpcChannelCredentials: creds(id) })],
        preferredTransports: ['GRPC'],
        cardResolver: new DefaultAgentCardResolver({ fetchImpl: c.fetch }),
      }),
    );
    return f.createFromUrl(`${h.base}/a2a/${agent}/`);
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-grpc-'));
    auditPath = path.join(dir, 'audit.log');
    const td = await makeTrustDomain(TD);
    const g1Id = await td.issue(G1, { ips: ['127.0.0.1'] });
    const gslowId = await td.issue(GSLOW, { ips: ['127.0.0.1'] });
    const seen = (agent: string) => (method: string, r: { tenant?: string }) => tenantsSeen.push({ agent, method, tenant: r?.tenant });
    g1 = await startA2aAgent({
      name: 'g1',
      ...g1Id,
      bundlePem: td.bundlePem,
      executor: echoExecutor(),
      grpc: { tenant: '', onRequest: seen('g1') },
    });
    gslow = await startA2aAgent({
      name: 'gslow',
      ...gslowId,
      bundlePem: td.bundlePem,
      executor: slowTaskExecutor(200, 3),
      grpc: { tenant: 'team-7', onRequest: seen('gslow') },
    });
    agents = {
      g1: { url: g1.url, id: G1, grpc: g1.grpcUrl },
      gslow: { url: gslow.url, id: GSLOW, grpc: gslow.grpcUrl },
    };
    const now = Date.now;
    const stageConfig = parseConfig({ trustDomain: TD, agents: { ...agents, echo: { url: 'https://127.0.0.1:1', id: ECHO_ID } }, policy });
    stage = createDelegationStage({ config: stageConfig, keyring: new KeyRing({ now, retentionMs: stageConfig.delegation.tokenTtl }), now });
    h = await startHarness({ td, audit: createAuditLog({ path: auditPath, flushOnSigterm: false }), governance: stage });
    h.gw.reloadConfig(h.config({ agents: { ...agents, echo: { url: h.upstream.url, id: ECHO_ID } }, policy }));
  });
  afterAll(async () => {
    await h?.close();
    await g1?.close();
    await gslow?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('offers h2 next to HTTP/1.1: h2-only clients get h2, clients offering both keep HTTP/1.1', async () => {
    const alpn = (protocols: string[]) =>
      new Promise<string | false>((resolve, reject) => {
        const s = tls.connect(
          { host: '127.0.0.1', port: h.gw.port, ca: h.td.bundlePem, key: h.alice.keyPem, cert: h.alice.certChainPem, ALPNProtocols: protocols },
          () => {
            resolve(s.alpnProtocol ?? false);
            s.destroy();
          },
        );
        s.on('error', reject);
      });
    expect(await alpn(['h2'])).toBe('h2');
    expect(await alpn(['h2', 'http/1.1'])).toBe('http/1.1');
    expect(await alpn(['http/1.1'])).toBe('http/1.1');
    // and HTTP/1.1 still answers
    expect((await get(h.client(h.alice), `${h.base}/a2a`)).status).toBe(200);
  });

  it("keeps the agent's gRPC interface in the card, pointing at the gateway with the agent as tenant", async () => {
    const r = await get(h.client(h.alice), `${h.base}/a2a/gslow/.well-known/agent-card.json`, { 'a2a-version': '1.0' });
    expect(r.status).toBe(200);
    const grpcIfs = r.json.supportedInterfaces.filter((i: { protocolBinding: string }) => i.protocolBinding === 'GRPC');
    expect(grpcIfs).toEqual([{ url: `127.0.0.1:${h.gw.port}`, protocolBinding: 'GRPC', tenant: 'gslow/team-7', protocolVersion: '1.0' }]);
    // an agent without agents.<name>.grpc keeps none (the harness's stand-in has no card gRPC either way)
  });

  it('unary SendMessage: the SDK gRPC client follows the card; the agent sees its own tenant', async () => {
    const client = await sdkClient(h.alice, 'g1');
    const res = await client.sendMessage(sendRequest('', 'hello'));
    expect(JSON.stringify(res)).toContain('echo: hello');
    expect(tenantsSeen.filter((t) => t.agent === 'g1').at(-1)).toEqual({ agent: 'g1', method: 'sendMessage', tenant: '' });
  });

  it('server-streaming SendStreamingMessage is streamed through as the agent produces it', async () => {
    const client = await sdkClient(h.alice, 'gslow');
    const t0 = Date.now();
    const at: number[] = [];
    const kinds: string[] = [];
    for await (const ev of client.sendMessageStream(sendRequest('', 'go'))) {
      at.push(Date.now() - t0);
      kinds.push(ev.payload?.$case ?? '?');
    }
    expect(kinds[0]).toBe('task');
    expect(kinds.length).toBeGreaterThanOrEqual(4);
    // the executor waits 200 ms between steps: the first event must not wait for the last
    expect(at[at.length - 1] - at[0]).toBeGreaterThan(400);
    expect(tenantsSeen.filter((t) => t.agent === 'gslow').at(-1)).toEqual({ agent: 'gslow', method: 'sendMessageStream', tenant: 'team-7' });
  });

  it('a caller without a policy rule gets PERMISSION_DENIED with a clear message, and the agent never sees it', async () => {
    const before = tenantsSeen.length;
    const { err, trailers } = await unary(raw(h.mallory), 'sendMessage', sendRequest('g1'));
    expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err?.details).toBe(`${MALLORY} is not allowed to call agent "g1": no policy rule allows it (ask an operator to add one)`);
    expect(trailers?.get('tollgate-reason')).toEqual(['no_rule']);
    expect(tenantsSeen.length).toBe(before);
  });

  it('routes only by tenant: none is INVALID_ARGUMENT, an unknown agent NOT_FOUND, an agent without gRPC UNIMPLEMENTED', async () => {
    const c = raw(h.alice);
    const none = await unary(c, 'sendMessage', sendRequest(''));
    expect(none.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(none.err?.details).toMatch(/no tenant.*GRPC interface of the agent's card/);
    const unknown = await unary(c, 'sendMessage', sendRequest('nobody'));
    expect(unknown.err?.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.err?.details).toContain('no agent named "nobody"');
    const noGrpc = await unary(c, 'sendMessage', sendRequest('echo'));
    expect(noGrpc.err?.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(noGrpc.err?.details).toContain('agents.echo.grpc');
  });

  it('refuses push configs on the gRPC binding (an SSRF vector the gateway would not check there), inline or created', async () => {
    const before = tenantsSeen.length;
    const c = raw(h.alice);
    const inline = await unary(c, 'sendMessage', {
      ...sendRequest('g1'),
      configuration: {
        acceptedOutputModes: [],
        taskPushNotificationConfig: { tenant: '', id: 'p1', taskId: '', url: 'https://169.254.169.254/latest', token: '', authentication: undefined },
        historyLength: undefined,
        returnImmediately: false,
      },
    });
    expect(inline.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(inline.err?.details).toContain('push notification config in SendMessage over gRPC is not carried');
    const created = await unary(c, 'createTaskPushNotificationConfig', {
      tenant: 'g1',
      id: 'p2',
      taskId: 't1',
      url: 'http://127.0.0.1:6379/',
      token: '',
      authentication: undefined,
    });
    expect(created.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(tenantsSeen.length).toBe(before);
    // a configuration without a push config still goes through
    const plain = await unary(c, 'sendMessage', {
      ...sendRequest('g1'),
      configuration: { acceptedOutputModes: ['text/plain'], taskPushNotificationConfig: undefined, historyLength: 2, returnImmediately: false },
    });
    expect(plain.err).toBeNull();
  });

  it("refuses gRPC calls that reach an existing task (the gateway checks ownership on the JSON bindings only): one caller cannot read another's", async () => {
    // alice creates a task over gRPC; mallory (allowed to call g1 here) must not read or cancel it over gRPC
    const before = tenantsSeen.length;
    const c = raw(h.alice);
    for (const [method, req] of [
      ['getTask', { tenant: 'g1', id: 't-1', historyLength: undefined }],
      ['cancelTask', { tenant: 'g1', id: 't-1', metadata: undefined }],
      ['listTasks', { tenant: 'g1', contextId: '', status: 0, pageToken: '' }],
    ] as const) {
      const r = await unary(c, method, req);
      expect([method, r.err?.code]).toEqual([method, grpc.status.PERMISSION_DENIED]);
      expect(r.err?.details).toContain('over gRPC is refused');
    }
    const cont = await unary(c, 'sendMessage', { ...sendRequest('g1'), message: { ...userMessage('more'), taskId: 't-1' } });
    expect(cont.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(cont.err?.details).toContain('continuing a task over gRPC is refused');
    expect(tenantsSeen.length).toBe(before);
    // a new message (no task id) still goes through
    expect((await unary(c, 'sendMessage', sendRequest('g1'))).err).toBeNull();
  });

  it('does not pass on the extended card over gRPC (it would arrive unrewritten and unsigned): UNIMPLEMENTED naming the binding to use', async () => {
    const before = tenantsSeen.length;
    const { err } = await unary(raw(h.alice), 'getExtendedAgentCard', { tenant: 'g1' });
    expect(err?.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(err?.details).toContain('JSON-RPC and HTTP+JSON bindings only');
    expect(tenantsSeen.length).toBe(before);
  });

  it('reads the delegation context from metadata like the HTTP header: a forged one is refused', async () => {
    const md = new grpc.Metadata();
    md.set('tollgate-delegation', 'forged.by.caller');
    const { err, trailers } = await unary(raw(h.alice), 'sendMessage', sendRequest('g1'), md);
    expect(err?.code).not.toBe(grpc.status.OK);
    expect(err).not.toBeNull();
    expect(trailers?.get('tollgate-reason')[0]).toMatch(/^context_/);
  });

  it('a rate limit gives RESOURCE_EXHAUSTED with retry-after', async () => {
    h.gw.reloadConfig(
      h.config({ agents: { ...agents, echo: { url: h.upstream.url, id: ECHO_ID } }, policy, rateLimits: { perCaller: { rps: 0.01, burst: 1 } } }),
    );
    try {
      const c = raw(h.alice);
      const first = await unary(c, 'sendMessage', sendRequest('g1'));
      expect(first.err).toBeNull();
      const second = await unary(c, 'sendMessage', sendRequest('g1'));
      expect(second.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(second.err?.details).toMatch(/^rate limited: your call rate is over the limit; retry after \d+ s$/);
      expect(second.trailers?.get('retry-after')).toHaveLength(1);
    } finally {
      h.gw.reloadConfig(h.config({ agents: { ...agents, echo: { url: h.upstream.url, id: ECHO_ID } }, policy }));
    }
  });

  it('re-checks revocation per call on an open h2 session', async () => {
    const c = raw(h.alice);
    expect((await unary(c, 'sendMessage', sendRequest('g1'))).err).toBeNull();
    h.revoked.add(h.alice.serial);
    try {
      const { err, trailers } = await unary(c, 'sendMessage', sendRequest('g1')); // same channel, same h2 session
      expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(err?.details).toContain('is revoked');
      expect(trailers?.get('tollgate-reason')).toEqual(['revoked']);
    } finally {
      h.revoked.delete(h.alice.serial);
      c.close();
    }
  });

  it('an unreachable gRPC upstream is UNAVAILABLE; one presenting another identity is refused (mTLS, SPIFFE ID checked)', async () => {
    const GWRONG = `spiffe://${TD}/agent/gwrong`;
    h.gw.reloadConfig(
      h.config({
        agents: {
          ...agents,
          echo: { url: h.upstream.url, id: ECHO_ID },
          gdown: { url: g1.url, id: `spiffe://${TD}/agent/gdown`, grpc: 'https://127.0.0.1:1' },
          gwrong: { url: g1.url, id: GWRONG, grpc: g1.grpcUrl },
        },
        policy: [{ from: ALICE, to: '*' }],
      }),
    );
    try {
      const before = tenantsSeen.length;
      const down = await unary(raw(h.alice), 'sendMessage', sendRequest('gdown'));
      expect(down.err?.code).toBe(grpc.status.UNAVAILABLE);
      expect(down.err?.details).toBe('agent "gdown" is unreachable (connection refused)');
      const wrong = await unary(raw(h.alice), 'sendMessage', sendRequest('gwrong'));
      expect(wrong.err?.code).toBe(grpc.status.UNAVAILABLE);
      expect(wrong.trailers?.get('tollgate-reason')).toEqual(['identity']);
      expect(tenantsSeen.length).toBe(before);
    } finally {
      h.gw.reloadConfig(h.config({ agents: { ...agents, echo: { url: h.upstream.url, id: ECHO_ID } }, policy }));
    }
  });

  it('h2 connections need a client certificate too, and survive a gateway certificate rotation', async () => {
    const noCert = http2.connect(`https://127.0.0.1:${h.gw.port}`, { ca: h.td.bundlePem });
    const outcome = await new Promise<string>((resolve) => {
      noCert.on('error', (e: Error & { code?: string }) => resolve(e.code ?? 'error'));
      const r = noCert.request({ ':path': '/lf.a2a.v1.A2AService/SendMessage', ':method': 'POST', 'content-type': 'application/grpc' });
      r.on('error', () => {});
      r.on('response', () => resolve('answered'));
      r.on('close', () => resolve('closed'));
      noCert.on('close', () => resolve('closed'));
      r.end();
    });
    noCert.destroy();
    expect(outcome).not.toBe('answered');

    const c = raw(h.alice);
    expect((await unary(c, 'sendMessage', sendRequest('g1'))).err).toBeNull();
    h.creds = await h.td.gatewayCredentials();
    h.gw.reloadCredentials(); // new gateway SVID: new upstream sessions; the open caller session is re-resolved
    expect((await unary(c, 'sendMessage', sendRequest('g1'))).err).toBeNull();
    expect((await unary(raw(h.alice), 'sendMessage', sendRequest('g1'))).err).toBeNull();
    c.close();
  });

  it('refuses other requests over h2 with a clear HTTP answer', async () => {
    const session = http2.connect(`https://127.0.0.1:${h.gw.port}`, { ca: h.td.bundlePem, key: h.alice.keyPem, cert: h.alice.certChainPem });
    try {
      const req = session.request({ ':path': '/a2a/g1/', ':method': 'POST', 'content-type': 'application/json' });
      req.end('{}');
      const [status, body] = await new Promise<[number, string]>((resolve, reject) => {
        let s = 0;
        let b = '';
        req.on('response', (hd) => (s = Number(hd[':status'])));
        req.on('data', (c: Buffer) => (b += c.toString()));
        req.on('end', () => resolve([s, b]));
        req.on('error', reject);
      });
      expect(status).toBe(505);
      expect(JSON.parse(body).error.data.reason).toBe('http2_not_grpc');
    } finally {
      session.close();
    }
  });

  it('records gRPC calls in the audit log, the metrics and the call graph', async () => {
    const client = await sdkClient(h.alice, 'g1');
    await client.sendMessage(sendRequest('', 'for the record'));
    const edges = stage.graph.aggregate.edgeStats(Date.now());
    const edge = edges.find((e) => e.from === ALICE && e.to === G1);
    expect(edge?.calls).toBeGreaterThanOrEqual(1);
    const calls = stage.graph.tasksJSON().flatMap((t) => stage.graph.taskJSON(t.rootTaskId)?.calls ?? []);
    expect(calls).toContainEqual(expect.objectContaining({ callee: G1, method: 'SendMessage', status: 200, decision: 'allowed' }));
    const metrics = await h.metrics.registry.metrics();
    expect(metrics).toMatch(/tollgate_requests_total\{caller="external",callee="g1",method="SendMessage",status="200"\} [1-9]/);

    await h.gw.close(100); // flushes the audit log
    const lines = fs
      .readFileSync(auditPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ caller: ALICE, callee: 'g1', method: 'SendMessage', decision: 'allow', status: 200 }));
    expect(lines).toContainEqual(expect.objectContaining({ caller: ALICE, callee: 'gslow', method: 'SendStreamingMessage', decision: 'allow', status: 200 }));
    expect(lines).toContainEqual(
      expect.objectContaining({ caller: MALLORY, callee: 'g1', method: 'SendMessage', decision: 'deny', reason: 'no_rule', status: 403 }),
    );
  });
});
