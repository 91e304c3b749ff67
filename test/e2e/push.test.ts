/**
 * Push notifications through the whole gateway (issue #14), with real @a2a-js/sdk agents on agent-bootstrap:
 * the orchestrator asks the writer for work and registers a push config naming the gateway's callback route
 * for itself; the writer (DefaultRequestHandler + MtlsPushNotificationSender) pushes each task update
 * through the gateway with its SVID; the orchestrator's pushReceiver gets them naming the writer. Policy
 * decides writer -> orchestrator (PushNotification), the audit log and the root task's call tree record
 * the push edge. A push config pointing anywhere else is refused before the writer sees it.
 */
import fs from 'node:fs';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CARD_PATH } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import { DefaultRequestHandler, InMemoryPushNotificationStore, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { startE2e, baseConfig, id, type E2e } from './harness.js';
import {
  AgentIdentity,
  createAgentServer,
  createMtlsFetch,
  MtlsPushNotificationSender,
  pushCallbackUrl,
  pushReceiver,
  type AgentServer,
  type MtlsFetch,
  type ReceivedPush,
} from '../../agent-bootstrap/index.js';
import { agentCard, userMessage, GatewayClients } from '../../demo/agents/a2a.js';
import { slowTaskExecutor } from '../fakes/a2a-agent.js';
import { waitFor } from '../fakes/wait.js';

const GATEWAY = id('tollgate/gateway');
const WRITER = id('agent/writer');
const ORCH = id('agent/orchestrator');

let e: E2e;
let writer: AgentServer;
let orchestrator: AgentServer;
const fetches: MtlsFetch[] = [];
let toWriter: Client;
const received: ReceivedPush[] = [];
const senderErrors: string[] = [];

function config(pushRule: boolean): string {
  return baseConfig(`agents:
  writer: { url: "${writer.url}/", id: "${WRITER}" }
  orchestrator: { url: "${orchestrator.url}/", id: "${ORCH}", push: /push }
policy:
  - { from: "${ORCH}", to: [writer], methods: [SendMessage] }
${pushRule ? `  - { from: "${WRITER}", to: [orchestrator], methods: [PushNotification] }` : ''}
`).replace('AUDIT', `${e.dir}/audit.log`);
}

const auditLines = async () => {
  const p = `${e.dir}/audit.log`;
  return waitFor('the audit log', () => Promise.resolve(fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined)).then((t) =>
    t
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
};

beforeAll(async () => {
  e = await startE2e(baseConfig());

  // the writer: a real SDK agent whose push sender goes through the gateway with the writer's SVID
  const writerId = new AgentIdentity(await e.enroll(WRITER), { server: e.control });
  const writerFetch = createMtlsFetch(writerId, { expectedServerId: GATEWAY });
  fetches.push(writerFetch);
  const writerApp = express();
  writer = await createAgentServer(writerApp, writerId, { allowedCallers: [GATEWAY] });
  const card = agentCard('writer', 'writes', `${writer.url}/`);
  card.capabilities!.pushNotifications = true;
  const pushStore = new InMemoryPushNotificationStore();
  const sender = new MtlsPushNotificationSender(pushStore, writerFetch, {
    gateway: e.proxyUrl,
    onError: (err) => senderErrors.push(err.message),
  });
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), slowTaskExecutor(5, 1), undefined, pushStore, sender);
  writerApp.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler }));
  writerApp.use('/', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));

  // the orchestrator: receives pushes at /push (config agents.orchestrator.push), calls the writer
  const orchId = new AgentIdentity(await e.enroll(ORCH), { server: e.control });
  const orchFetch = createMtlsFetch(orchId, { expectedServerId: GATEWAY });
  fetches.push(orchFetch);
  const orchApp = express();
  orchApp.use(
    '/push',
    pushReceiver((p) => void received.push(p), { gatewayId: GATEWAY }),
  );
  orchestrator = await createAgentServer(orchApp, orchId, { allowedCallers: [GATEWAY] });
  toWriter = await new GatewayClients(e.proxyUrl, orchFetch).blind('writer');

  fs.writeFileSync(e.configPath, config(true));
  await e.tg.reload();
}, 60_000);

afterAll(async () => {
  await writer?.close(100);
  await orchestrator?.close(100);
  for (const f of fetches) await f.close();
  await e?.close();
});

function sendWithPush(text: string, url: string) {
  return toWriter.sendMessage({
    message: userMessage(text),
    tenant: '',
    configuration: {
      acceptedOutputModes: [],
      taskPushNotificationConfig: { tenant: '', id: '', taskId: '', url, token: 'tok', authentication: undefined },
      returnImmediately: false,
    },
    metadata: undefined,
  });
}

describe('push notifications through the gateway', () => {
  it('delivers the writer task updates to the orchestrator, naming the writer; graph and audit record the push edge', async () => {
    const url = pushCallbackUrl(e.proxyUrl, 'orchestrator', 'job-1');
    const result = await sendWithPush('draft it', url);
    const taskId = 'id' in result ? result.id : '';
    expect(taskId).not.toBe('');

    const done = await waitFor('the completed update', () =>
      Promise.resolve(received.find((p) => JSON.stringify(p.notification).includes('TASK_STATE_COMPLETED') && p.body.includes(taskId))),
    );
    expect(done.sender).toBe(WRITER);
    expect(done.path).toBe('/job-1');
    expect(done.headers['x-a2a-notification-token']).toBe('tok');
    expect((done.notification as { statusUpdate?: { taskId: string } }).statusUpdate?.taskId).toBe(taskId);
    expect(senderErrors).toEqual([]);

    // the call tree of the orchestrator's root task: the push is a child of the writer's call
    const agg = e.tg.stage.graph.aggregateJSON(Date.now());
    expect(agg.edges.some((x) => x.from === WRITER && x.to === ORCH)).toBe(true);
    const tree = agg.recentTasks!.map((t) => e.tg.stage.graph.taskJSON(t.rootTaskId)!).find((t) => t.calls.some((c) => c.method === 'PushNotification'))!;
    const sendCall = tree.calls.find((c) => c.method === 'SendMessage')!;
    const pushes = tree.calls.filter((c) => c.method === 'PushNotification');
    expect(sendCall).toMatchObject({ caller: ORCH, calleeName: 'writer' });
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes[0]).toMatchObject({ caller: WRITER, callee: ORCH, calleeName: 'orchestrator', parent: sendCall.id, decision: 'allowed' });

    const audit = await waitFor('the push in the audit log', async () => {
      const lines = await auditLines();
      return lines.some((l) => l.method === 'PushNotification' && l.status === 204) ? lines : undefined;
    });
    expect(audit.find((l) => l.method === 'PushNotification')).toMatchObject({ caller: WRITER, callee: 'orchestrator', decision: 'allow', status: 204 });
  });

  it('policy refuses a push edge without a rule: the writer is told 403, the orchestrator gets nothing', async () => {
    fs.writeFileSync(e.configPath, config(false));
    await e.tg.reload();
    try {
      const before = received.length;
      await sendWithPush('again', pushCallbackUrl(e.proxyUrl, 'orchestrator'));
      await waitFor('the refused push', () => Promise.resolve(senderErrors.some((m) => m.includes('403')) ? true : undefined));
      expect(senderErrors.some((m) => m.includes('no_rule'))).toBe(true);
      expect(received.length).toBe(before);
      const lines = await waitFor('the refusal in the audit log', async () => {
        const l = await auditLines();
        return l.some((x) => x.method === 'PushNotification' && x.status === 403) ? l : undefined;
      });
      expect(lines.find((x) => x.method === 'PushNotification' && x.status === 403)).toMatchObject({
        caller: WRITER,
        callee: 'orchestrator',
        reason: 'no_rule',
      });
    } finally {
      senderErrors.length = 0;
      fs.writeFileSync(e.configPath, config(true));
      await e.tg.reload();
    }
  });

  it('refuses the SSRF attempt (a push config pointing at 127.0.0.1) and a callback naming another agent', async () => {
    await expect(sendWithPush('ssrf', 'https://127.0.0.1:6379/')).rejects.toThrow(/push_url_not_gateway|does not point at the gateway/);
    await expect(sendWithPush('other', pushCallbackUrl(e.proxyUrl, 'writer'))).rejects.toThrow(/names agent "writer" as receiver/);
  });
});
