/**
 * The agent's own layer of task ownership: an @a2a-js/sdk agent on createAgentServer with
 * spiffeUserBuilder sees the real caller behind the gateway (from the gateway's x-forwarded-client-cert,
 * believed only from the gateway's own connection), and the SDK's task store then keeps each caller's tasks
 * to itself even where the gateway does not stand in between.
 */
import fs from 'node:fs';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CARD_PATH } from '@a2a-js/sdk';
import { DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler } from '@a2a-js/sdk/server/express';
import { startE2e, baseConfig, id, type E2e } from './harness.js';
import { AgentIdentity, createAgentServer, spiffeUserBuilder, callerUser, callerFromXfcc, type AgentServer } from '../../agent-bootstrap/index.js';
import type { SvidMaterial } from '../../agent-bootstrap/material.js';
import { agentCard } from '../../demo/agents/a2a.js';
import { pendingTaskExecutor } from '../fakes/a2a-agent.js';

const GATEWAY = id('tollgate/gateway');
const ALICE = id('user/alice');
const MALLORY = id('user/mallory');

let e: E2e;
let worker: AgentServer;
let alice: SvidMaterial;
let mallory: SvidMaterial;
/** the caller the SDK handed the executor, per call */
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  e = await startE2e(baseConfig());
  const identity = new AgentIdentity(await e.enroll(id('agent/worker')), { server: e.control });
  const app = express();
  // mallory may also call the agent directly (not through the gateway): the agent must not believe an XFCC from it
  worker = await createAgentServer(app, identity, { allowedCallers: [GATEWAY, MALLORY] });
  const handler = new DefaultRequestHandler(
    agentCard('worker', 'worker', `${worker.url}/`),
    new InMemoryTaskStore(),
    pendingTaskExecutor((u) => seen.push(u)),
  );
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler }));
  app.use('/', jsonRpcHandler({ requestHandler: handler, userBuilder: spiffeUserBuilder({ gatewayId: GATEWAY }) }));
  alice = await e.enroll(ALICE);
  mallory = await e.enroll(MALLORY);
  fs.writeFileSync(
    e.configPath,
    baseConfig(`agents:
  worker: { url: "${worker.url}", id: "${id('agent/worker')}" }
policy:
  - { from: "${id('user/*')}", to: [worker] }
`).replace('AUDIT', `${e.dir}/audit.log`),
  );
  await e.tg.reload();
}, 60_000);

afterAll(async () => {
  await worker?.close(100);
  await e?.close();
});

/** A v1.0 JSON-RPC call over mTLS as `who`, to `base` (the gateway route or the agent itself). */
function call(who: SvidMaterial, url: string, method: string, params: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        key: who.keyPem,
        cert: who.certChainPem,
        ca: who.bundlePem,
        agent: false,
        checkServerIdentity: () => undefined, // SVIDs name a SPIFFE ID, not a host (the gateway checks upstreams by ID)
        headers: { 'content-type': 'application/json', 'a2a-version': '1.0', ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const message = (extra: Record<string, unknown> = {}) => ({ message: { role: 'ROLE_USER', messageId: randomUUID(), parts: [{ text: 'hi' }], ...extra } });

describe('spiffeUserBuilder: the caller behind the gateway', () => {
  it('the SDK sees each caller through the gateway, and the gateway itself never', async () => {
    seen.length = 0;
    const viaGateway = `${e.proxyUrl}/a2a/worker/`;
    expect((await call(alice, viaGateway, 'SendMessage', message())).status).toBe(200);
    expect((await call(mallory, viaGateway, 'SendMessage', message())).status).toBe(200);
    expect(seen).toEqual([ALICE, MALLORY]);
  });

  it('a direct caller is its own TLS peer: an x-forwarded-client-cert it sends is not believed', async () => {
    seen.length = 0;
    const r = await call(mallory, `${worker.url}/`, 'SendMessage', message(), { 'x-forwarded-client-cert': `By=${GATEWAY};URI=${ALICE}` });
    expect(r.status).toBe(200);
    expect(seen).toEqual([MALLORY]);
  });

  it("the SDK's task store is then per caller: another caller reaching the agent directly does not find the task", async () => {
    const created = await call(alice, `${e.proxyUrl}/a2a/worker/`, 'SendMessage', message());
    const taskId = created.json.result.task.id as string;
    const direct = await call(mallory, `${worker.url}/`, 'GetTask', { id: taskId });
    expect(direct.json.error?.code).toBe(-32001); // TaskNotFound: scoped by user.userName
    const listed = await call(mallory, `${worker.url}/`, 'ListTasks', {});
    expect((listed.json.result.tasks as { id: string }[]).map((t) => t.id)).not.toContain(taskId);
    const own = await call(alice, `${e.proxyUrl}/a2a/worker/`, 'GetTask', { id: taskId });
    expect(own.json.result.id).toBe(taskId);
  });
});

describe('callerUser / callerFromXfcc (pure)', () => {
  it('believes the XFCC only from the gateway, only in the exact form the gateway writes', () => {
    const x = `By=${GATEWAY};URI=${ALICE}`;
    expect(callerUser(GATEWAY, x, GATEWAY)).toEqual({ isAuthenticated: true, userName: ALICE, via: 'gateway' });
    expect(callerUser(MALLORY, x, GATEWAY)).toEqual({ isAuthenticated: true, userName: MALLORY, via: 'peer' });
    expect(callerUser(undefined, x, GATEWAY)).toEqual({ isAuthenticated: false, userName: '', via: 'none' });
    expect(() => callerUser(GATEWAY, undefined, GATEWAY)).toThrow(/x-forwarded-client-cert/);
    expect(() => callerUser(GATEWAY, `By=${id('tollgate/other')};URI=${ALICE}`, GATEWAY)).toThrow(/refused/);
    for (const bad of [
      [x, x],
      `${x},By=${GATEWAY};URI=${MALLORY}`,
      `By=${GATEWAY};URI=${ALICE};Hash=ab`,
      `By=${GATEWAY};URI=SPIFFE://e2e.test/user/alice`,
      `By=${GATEWAY};URI=spiffe://e2e.test/user/../alice`,
      `By=${GATEWAY};URI=`,
    ]) {
      expect(callerFromXfcc(bad, GATEWAY), String(bad)).toBeUndefined();
    }
  });

  it('refuses a malformed gateway ID at construction', () => {
    expect(() => spiffeUserBuilder({ gatewayId: 'not-an-id' })).toThrow(/gatewayId/);
  });
});
