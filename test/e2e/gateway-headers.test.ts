/**
 * The gateway's identity headers reach a real createAgentServer callee, whatever the caller sends: Node keeps
 * only the first ~1,000 headers of a request, so a caller that sends that many must not push
 * `x-forwarded-client-cert` and `tollgate-delegation` out of the callee's view (its onward calls would then
 * start fresh root tasks, escaping loop, depth and budget checks). The gateway refuses such a request (431),
 * and the agent server refuses a request from the gateway that lacks them instead of starting a new root.
 */
import fs from 'node:fs';
import tls from 'node:tls';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CARD_PATH } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { startE2e, baseConfig, id, type E2e } from './harness.js';
import { startStandInUpstream, type StandInUpstream } from '../fakes/upstream.js';
import { AgentIdentity, createAgentServer, createMtlsFetch, type AgentServer, type MtlsFetch } from '../../agent-bootstrap/index.js';
import type { SvidMaterial } from '../../agent-bootstrap/material.js';
import { agentCard, agentMessage, answerText, GatewayClients, sendRequest, textOf } from '../../demo/agents/a2a.js';

let e: E2e;
let sink: StandInUpstream;
let worker: AgentServer;
let workerFetch: MtlsFetch;
let alice: SvidMaterial;
/** what the worker's app received: the identity headers of each request */
const seen: { xfcc?: string; delegation?: string; count: number }[] = [];

const GATEWAY = id('tollgate/gateway');

beforeAll(async () => {
  e = await startE2e(baseConfig());
  const gatewayUrl = e.proxyUrl;
  // answers A2A v1.0 JSON-RPC (what the SDK client expects back)
  sink = await startStandInUpstream({
    ...(await e.enroll(id('agent/sink'))),
    handler: (req, res) => {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: JSON.parse(req.body).id,
        result: { message: { messageId: 'm-sink', role: 'ROLE_AGENT', parts: [{ text: 'ok' }] } },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    },
  });
  const identity = new AgentIdentity(await e.enroll(id('agent/worker')), { server: e.control });
  workerFetch = createMtlsFetch(identity, { expectedServerId: GATEWAY });
  const onward = new GatewayClients(gatewayUrl, workerFetch);
  const executor: AgentExecutor = {
    async execute(rc, bus) {
      // an onward call through the gateway: the mTLS fetch hands back the delegation context it received
      const reply = await (await onward.blind('sink')).sendMessage(sendRequest(textOf(rc.userMessage)));
      bus.publish(AgentEvent.message(agentMessage(`worker: ${answerText(reply)}`, { contextId: rc.contextId })));
      bus.finished();
    },
    async cancelTask() {},
  };
  const app = express();
  app.use((req, _res, next) => {
    seen.push({
      xfcc: req.headers['x-forwarded-client-cert'] as string | undefined,
      delegation: req.headers['tollgate-delegation'] as string | undefined,
      count: req.rawHeaders.length / 2,
    });
    next();
  });
  worker = await createAgentServer(app, identity, { allowedCallers: [GATEWAY] });
  const handler = new DefaultRequestHandler(agentCard('worker', 'worker', `${worker.url}/`), new InMemoryTaskStore(), executor);
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler }));
  app.use('/', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));

  alice = await e.enroll(id('user/alice'));
  fs.writeFileSync(
    e.configPath,
    baseConfig(`agents:
  worker: { url: "${worker.url}", id: "${id('agent/worker')}" }
  sink: { url: "${sink.url}", id: "${id('agent/sink')}" }
policy:
  - { from: "${id('user/alice')}", to: [worker] }
  - { from: "${id('agent/worker')}", to: [sink] }
`).replace('AUDIT', `${e.dir}/audit.log`),
  );
  await e.tg.reload();
}, 60_000);

afterAll(async () => {
  await worker?.close(100);
  await workerFetch?.close();
  await sink?.close();
  await e?.close();
});

// A2A v1.0 JSON-RPC, as @a2a-js/sdk 1.x speaks it
const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'SendMessage',
  params: { message: { messageId: 'm-1', role: 'ROLE_USER', parts: [{ text: 'hi' }] } },
});

/**
 * One HTTP/1.1 request written by hand over mTLS (no client library limits the header count), with `extra`
 * headers of ~11 bytes each; resolves with the status and body.
 */
function rawCall(
  who: { keyPem: string; certChainPem: string },
  port: number,
  path: string,
  extra: number,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { host: '127.0.0.1', port, key: who.keyPem, cert: who.certChainPem, ca: alice.bundlePem, servername: 'localhost', checkServerIdentity: () => undefined },
      () => {
        let head = `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\na2a-version: 1.0\r\nconnection: close\r\n`;
        for (const [n, v] of Object.entries(headers)) head += `${n}: ${v}\r\n`;
        for (let i = 0; i < extra; i++) head += `x-pad-${i}: v\r\n`;
        const body = method === 'POST' ? BODY : '';
        s.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      },
    );
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', reject);
    s.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!m) {
        reject(new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      resolve({ status: Number(m[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

const proxyPort = () => e.tg.ports.proxy;

describe('the gateway identity headers reach the callee', () => {
  it("a normal call carries XFCC and the delegation context, and the onward call stays in the caller's root task", async () => {
    const before = { worker: seen.length, sink: sink.requests.length };
    const r = await rawCall(alice, proxyPort(), '/a2a/worker/', 50);
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body).result.message.parts[0].text).toBe('worker: ok');
    const got = seen.slice(before.worker).find((s) => s.count > 50)!;
    expect(got.xfcc).toBe(`By=${GATEWAY};URI=${id('user/alice')}`);
    expect(got.delegation).toMatch(/^v2\./);
    // the sink was called by the worker inside alice's task: the chain it received starts at alice
    const onward = sink.requests.slice(before.sink).at(-1)!;
    expect(onward.headers['x-forwarded-client-cert']).toBe(`By=${GATEWAY};URI=${id('agent/worker')}`);
    expect(onward.headers['tollgate-delegation']).toContain(id('user/alice'));
  });

  it('refuses a request with ~1,000 extra headers (~11 KB, under the size limit) with 431; the callee never sees it', async () => {
    const before = { worker: seen.length, sink: sink.requests.length };
    const r = await rawCall(alice, proxyPort(), '/a2a/worker/', 1010);
    expect(r.status, r.body).toBe(431);
    expect(JSON.parse(r.body).error).toMatchObject({ data: { reason: 'too_many_headers', maxHeaders: 100 } });
    expect(JSON.parse(r.body).error.message).toMatch(/more than 100 headers/);
    expect(seen.length).toBe(before.worker);
    expect(sink.requests.length).toBe(before.sink);
  });

  it('the agent server refuses (400) a request from the gateway without XFCC or without a delegation context', async () => {
    const gw = e.tg.gateway.credentials();
    const before = seen.length;
    const noXfcc = await rawCall(gw, worker.port, '/', 0, { 'tollgate-delegation': 'v2.x.y.z' });
    expect(noXfcc.status).toBe(400);
    expect(JSON.parse(noXfcc.body)).toMatchObject({ error: 'bad_request', reason: expect.stringMatching(/x-forwarded-client-cert/) });
    const noDelegation = await rawCall(gw, worker.port, '/', 0, { 'x-forwarded-client-cert': `By=${GATEWAY};URI=${id('user/alice')}` });
    expect(noDelegation.status).toBe(400);
    expect(JSON.parse(noDelegation.body).reason).toMatch(/tollgate-delegation/);
    // XFCC that does not name the gateway that connected: refused too
    const foreign = await rawCall(gw, worker.port, '/', 0, {
      'x-forwarded-client-cert': `By=${id('agent/other')};URI=${id('user/alice')}`,
      'tollgate-delegation': 'v2.x.y.z',
    });
    expect(foreign.status).toBe(400);
    expect(seen.length).toBe(before); // the app never ran
    // the gateway's own card fetch carries neither (it is not a call on anyone's behalf): still served
    const card = await rawCall(gw, worker.port, `/${AGENT_CARD_PATH}`, 0, {}, 'GET');
    expect(card.status).toBe(200);
  });
});
