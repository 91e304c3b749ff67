/**
 * Task ownership (issue #14): behind the gateway every agent sees one client, so the gateway itself keeps
 * which caller created which task and refuses everyone else. Two real callers (alice, mallory: distinct
 * SVIDs) through a real gateway to a real @a2a-js/sdk agent whose task store is NOT scoped per caller
 * (UserBuilder.noAuthentication): whatever keeps mallory out of alice's tasks here is the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startHarness, post, get, ALICE, MALLORY, type Harness } from './harness.js';
import { startA2aAgent, pendingTaskExecutor, type RunningAgent } from '../fakes/a2a-agent.js';
import type { MtlsClient } from '../fakes/mtls-client.js';
import { auditLine, type AuditLog, type AuditRecord } from '../../proxy/audit.js';

const WRITER = 'spiffe://example.org/agent/writer';
const V1 = { 'a2a-version': '1.0' };

const v03Message = (extra: Record<string, unknown> = {}) => ({
  kind: 'message',
  role: 'user',
  messageId: randomUUID(),
  parts: [{ kind: 'text', text: 'hi' }],
  ...extra,
});
const v10Message = (extra: Record<string, unknown> = {}) => ({ role: 'ROLE_USER', messageId: randomUUID(), parts: [{ text: 'hi' }], ...extra });

describe('task ownership through the gateway', () => {
  let h: Harness;
  let writer: RunningAgent;
  let alice: MtlsClient;
  let mallory: MtlsClient;
  let rpcUrl: string;
  let restUrl: string;
  const audited: AuditRecord[] = [];
  const audit: AuditLog = {
    write: (r: AuditRecord) => audited.push(r),
    flush() {},
    flushed: () => Promise.resolve(),
    close: () => Promise.resolve(),
  } as unknown as AuditLog;
  const rpc = (c: MtlsClient, method: string, params: unknown, headers: Record<string, string> = {}) =>
    post(c, rpcUrl, JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }), headers);

  beforeAll(async () => {
    h = await startHarness({ audit });
    const wid = await h.td.issue(WRITER, { ips: ['127.0.0.1'] });
    writer = await startA2aAgent({
      name: 'writer',
      keyPem: wid.keyPem,
      certChainPem: wid.certChainPem,
      bundlePem: h.td.bundlePem,
      executor: pendingTaskExecutor(),
    });
    h.gw.reloadConfig(
      h.config({
        agents: { writer: { url: writer.url, id: WRITER } },
        policy: [{ from: 'spiffe://example.org/agent/*', to: ['writer'] }],
      }),
    );
    alice = h.client(h.alice);
    mallory = h.client(h.mallory);
    rpcUrl = `${h.base}/a2a/writer/a2a/jsonrpc`;
    restUrl = `${h.base}/a2a/writer/a2a/rest`;
  });
  afterAll(async () => {
    await h?.close();
    await writer?.close();
  });

  async function aliceTask(): Promise<{ id: string; contextId: string }> {
    const r = await rpc(alice, 'message/send', { message: v03Message() });
    expect(r.status).toBe(200);
    expect(r.json.result.kind).toBe('task');
    return { id: r.json.result.id, contextId: r.json.result.contextId };
  }

  function expectNotOwned(r: { status: number; json: any }, taskId: string) {
    expect(r.status).toBe(403);
    expect(r.json.error.data.reason).toBe('task_not_owned');
    expect(r.json.error.message).toContain(taskId);
  }

  it('another caller cannot read, cancel, subscribe to, continue or configure push for a task (JSON-RPC v0.3)', async () => {
    const t = await aliceTask();
    expectNotOwned(await rpc(mallory, 'tasks/get', { id: t.id }), t.id);
    expectNotOwned(await rpc(mallory, 'tasks/cancel', { id: t.id }), t.id);
    expectNotOwned(await rpc(mallory, 'tasks/resubscribe', { id: t.id }), t.id);
    expectNotOwned(await rpc(mallory, 'tasks/pushNotificationConfig/set', { taskId: t.id, pushNotificationConfig: { url: 'https://example.com/hook' } }), t.id);
    expectNotOwned(await rpc(mallory, 'tasks/pushNotificationConfig/get', { id: t.id }), t.id);
    expectNotOwned(await rpc(mallory, 'tasks/pushNotificationConfig/list', { id: t.id }), t.id);
    expectNotOwned(await rpc(mallory, 'tasks/pushNotificationConfig/delete', { id: t.id, pushNotificationConfigId: 'x' }), t.id);
    expectNotOwned(await rpc(mallory, 'message/send', { message: v03Message({ taskId: t.id }) }), t.id);
    expectNotOwned(await rpc(mallory, 'message/stream', { message: v03Message({ taskId: t.id }) }), t.id);
    // a key spelled with an escape is still taskId to the agent's JSON parser
    const escaped = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'message/send', params: { message: v03Message({ taskId: t.id }) } }).replace(
      '"taskId"',
      '"t\\u0061skId"',
    );
    expect(escaped).toContain('\\u0061');
    expectNotOwned(await post(mallory, rpcUrl, escaped), t.id);
    // the owner still can
    const got = await rpc(alice, 'tasks/get', { id: t.id });
    expect(got.status).toBe(200);
    expect(got.json.result.id).toBe(t.id);
    const more = await rpc(alice, 'message/send', { message: v03Message({ taskId: t.id }) });
    expect(more.status).toBe(200);
    expect(more.json.result.status.state).toBe('completed');
  });

  it('v1.0 JSON-RPC names and shapes too (GetTask, CancelTask, SubscribeToTask, push configs, SendMessage with taskId)', async () => {
    const created = await rpc(alice, 'SendMessage', { message: v10Message() }, V1);
    const id = created.json.result.task.id as string;
    expectNotOwned(await rpc(mallory, 'GetTask', { id }, V1), id);
    expectNotOwned(await rpc(mallory, 'CancelTask', { id }, V1), id);
    expectNotOwned(await rpc(mallory, 'SubscribeToTask', { id }, V1), id);
    expectNotOwned(await rpc(mallory, 'CreateTaskPushNotificationConfig', { taskId: id, url: 'https://example.com/hook' }, V1), id);
    expectNotOwned(await rpc(mallory, 'GetTaskPushNotificationConfig', { taskId: id, id: 'cfg' }, V1), id);
    expectNotOwned(await rpc(mallory, 'ListTaskPushNotificationConfigs', { taskId: id }, V1), id);
    expectNotOwned(await rpc(mallory, 'DeleteTaskPushNotificationConfig', { taskId: id, id: 'cfg' }, V1), id);
    expectNotOwned(await rpc(mallory, 'SendMessage', { message: v10Message({ taskId: id }) }, V1), id);
    // the proto JSON spelling the SDK also accepts
    expectNotOwned(await rpc(mallory, 'SendStreamingMessage', { message: v10Message({ task_id: id }) }, V1), id);
    const got = await rpc(alice, 'GetTask', { id }, V1);
    expect(got.status).toBe(200);
    expect(got.json.result.id).toBe(id);
    const cancelled = await rpc(alice, 'CancelTask', { id }, V1);
    expect(cancelled.status).toBe(200);
  });

  it('ListTasks shows each caller only its own tasks', async () => {
    const a1 = (await rpc(alice, 'SendMessage', { message: v10Message() }, V1)).json.result.task.id as string;
    const a2 = (await rpc(alice, 'SendMessage', { message: v10Message() }, V1)).json.result.task.id as string;
    const m1 = (await rpc(mallory, 'SendMessage', { message: v10Message() }, V1)).json.result.task.id as string;
    const ids = (r: { json: any }, rpcResult = true) => ((rpcResult ? r.json.result : r.json).tasks as { id: string }[]).map((t) => t.id);
    const forMallory = await rpc(mallory, 'ListTasks', {}, V1);
    expect(forMallory.status).toBe(200);
    expect(ids(forMallory)).toEqual([m1]);
    const forAlice = ids(await rpc(alice, 'ListTasks', {}, V1));
    expect(forAlice).toContain(a1);
    expect(forAlice).toContain(a2);
    expect(forAlice).not.toContain(m1);
    // the REST binding
    const rest = await get(mallory, `${restUrl}/tasks`, V1);
    expect(rest.status).toBe(200);
    expect(ids(rest, false)).toEqual([m1]);
  });

  it('a task created by a stream is recorded too (from its first event)', async () => {
    const r = await rpc(alice, 'message/stream', { message: v03Message() });
    expect(r.status).toBe(200);
    const first = JSON.parse(
      r.text
        .split('\n')
        .find((l) => l.startsWith('data:'))!
        .slice(5),
    );
    const id = first.result.id as string;
    expectNotOwned(await rpc(mallory, 'tasks/get', { id }), id);
    expect((await rpc(alice, 'tasks/get', { id })).status).toBe(200);
    // v1.0 over REST streaming
    const s = await post(alice, `${restUrl}/message:stream`, JSON.stringify({ message: v10Message() }), V1);
    const ev = JSON.parse(
      s.text
        .split('\n')
        .find((l) => l.startsWith('data:'))!
        .slice(5),
    );
    const rid = ev.task.id as string;
    const denied = await get(mallory, `${restUrl}/tasks/${rid}`, V1);
    expectNotOwned(denied, rid);
    expect((await get(alice, `${restUrl}/tasks/${rid}`, V1)).status).toBe(200);
  });

  it('the REST binding: the path names the task', async () => {
    const created = await post(alice, `${restUrl}/message:send`, JSON.stringify({ message: v10Message() }), V1);
    expect(created.status).toBe(200);
    const id = created.json.task.id as string;
    expectNotOwned(await get(mallory, `${restUrl}/tasks/${id}`, V1), id);
    // percent-encoded, as the SDK's router decodes it
    expectNotOwned(await get(mallory, `${restUrl}/tasks/${encodeURIComponent(id).replace(/-/g, '%2D')}`, V1), id);
    expectNotOwned(await post(mallory, `${restUrl}/tasks/${id}:cancel`, '{}', V1), id);
    expectNotOwned(await get(mallory, `${restUrl}/tasks/${id}:subscribe`, V1), id);
    expectNotOwned(await get(mallory, `${restUrl}/tasks/${id}/pushNotificationConfigs`, V1), id);
    expectNotOwned(await post(mallory, `${restUrl}/message:send`, JSON.stringify({ message: v10Message({ taskId: id }) }), V1), id);
    expect((await get(alice, `${restUrl}/tasks/${id}`, V1)).status).toBe(200);
  });

  it('a task the gateway has no record of is refused (fail closed), naming it', async () => {
    const ghost = randomUUID();
    const r = await rpc(alice, 'tasks/get', { id: ghost });
    expect(r.status).toBe(403);
    expect(r.json.error.data.reason).toBe('task_unknown');
    expect(r.json.error.message).toContain(ghost);
    expect(r.json.error.data.taskId).toBe(ghost);
  });

  it("the refusal is the gateway's: the agent never sees the call", async () => {
    const t = await aliceTask();
    const r = await rpc(mallory, 'tasks/cancel', { id: t.id });
    expectNotOwned(r, t.id);
    expect(r.json.error.data.callee).toBe('writer');
    // the task is still there, not cancelled
    expect((await rpc(alice, 'tasks/get', { id: t.id })).json.result.status.state).toBe('input-required');
  });

  it('audit lines carry the task and context: named by the request, or created by the answer', async () => {
    audited.length = 0;
    const t = await aliceTask();
    await rpc(mallory, 'tasks/get', { id: t.id });
    await rpc(alice, 'message/send', { message: v03Message({ taskId: t.id, contextId: t.contextId }) });
    const created = await post(alice, `${restUrl}/message:send`, JSON.stringify({ message: v10Message() }), V1);
    await get(alice, `${restUrl}/tasks/${created.json.task.id}`, V1);
    expect(audited.map((r) => [r.caller, r.method, r.reason, r.taskId, r.contextId])).toEqual([
      [ALICE, 'SendMessage', 'ok', t.id, t.contextId],
      [MALLORY, 'GetTask', 'task_not_owned', t.id, ''],
      [ALICE, 'SendMessage', 'ok', t.id, t.contextId],
      [ALICE, 'SendMessage', 'ok', created.json.task.id, created.json.task.contextId],
      [ALICE, 'GetTask', 'ok', created.json.task.id, ''],
    ]);
    // the line only gains fields, at its end, and only when there is something to say
    const base = {
      caller: ALICE,
      callee: 'writer',
      method: 'GetTask',
      decision: 'allow' as const,
      reason: 'ok',
      status: 200,
      bytesIn: 1,
      bytesOut: 2,
      durationUs: 3,
    };
    const plain = auditLine(base, 5);
    expect(auditLine({ ...base, taskId: '', contextId: '' }, 5)).toBe(plain);
    const withTask = auditLine({ ...base, traceId: 'ab', taskId: 't"1', contextId: 'c1' }, 5);
    expect(withTask.startsWith(plain.slice(0, -2))).toBe(true);
    expect(JSON.parse(withTask)).toMatchObject({ traceId: 'ab', taskId: 't"1', contextId: 'c1' });
  });
});
