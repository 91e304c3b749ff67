/**
 * The kill switch reaches calls already in flight: `tollgate ctl task cancel <root>` ends the open stream and
 * the blocking call of that root task (the callers see a closing JSON-RPC error / a 409 task_cancelled),
 * and the callee, a real @a2a-js/sdk agent, receives A2A CancelTask for the task the stream named (its
 * executor's cancelTask runs). The whole gateway as `tollgate serve` runs it, the CLI as an operator runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskState } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor } from '@a2a-js/sdk/server';
import { startE2e, baseConfig, id, type E2e } from './harness.js';
import { startStandInUpstream, handlers, type StandInUpstream } from '../fakes/upstream.js';
import { mtlsClient, type MtlsClient } from '../fakes/mtls-client.js';
import { startA2aAgent, type RunningAgent } from '../fakes/a2a-agent.js';
import { waitFor } from '../fakes/wait.js';
import { runCtl } from '../../cli/ctl/index.js';

let e: E2e;
let orch: StandInUpstream;
let worker: RunningAgent;
let alice: MtlsClient;
let asOrch: MtlsClient;
let adminDir: string;
/** task ids the worker's executor was asked to cancel */
const cancelled: string[] = [];
/** executions waiting to be cancelled (released at the end, whatever happened) */
const waiting = new Set<() => void>();

// a task that works until it is cancelled
const executor: AgentExecutor = {
  async execute(rc, bus) {
    bus.publish(
      AgentEvent.task({
        id: rc.taskId,
        contextId: rc.contextId,
        status: { state: TaskState.TASK_STATE_WORKING, timestamp: new Date().toISOString(), message: undefined },
        artifacts: [],
        history: [rc.userMessage],
        metadata: undefined,
      }),
    );
    await new Promise<void>((r) => waiting.add(r));
  },
  cancelTask(taskId, bus) {
    cancelled.push(taskId);
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId: '',
        status: { state: TaskState.TASK_STATE_CANCELED, timestamp: new Date().toISOString(), message: undefined },
        metadata: undefined,
      }),
    );
    bus.finished();
    return Promise.resolve();
  },
};

beforeAll(async () => {
  e = await startE2e(baseConfig());
  const orchId = await e.enroll(id('agent/orch'));
  orch = await startStandInUpstream({ ...orchId, handler: handlers.jsonRpcOk() });
  const workerId = await e.enroll(id('agent/worker'));
  worker = await startA2aAgent({ name: 'worker', ...workerId, executor });
  const aliceId = await e.enroll(id('user/alice'));
  alice = mtlsClient(aliceId, aliceId.bundlePem);
  asOrch = mtlsClient(orchId, orchId.bundlePem);
  adminDir = e.certDir(await e.enroll(id('admin/ops')));
  const fs = await import('node:fs');
  fs.writeFileSync(
    e.configPath,
    baseConfig(`agents:
  orch: { url: "${orch.url}", id: "${id('agent/orch')}" }
  worker: { url: "${worker.url}/a2a/jsonrpc", id: "${id('agent/worker')}" }
  worker-rest: { url: "${worker.url}/a2a/rest", id: "${id('agent/worker')}" }
policy:
  - { from: "${id('user/alice')}", to: [orch] }
  - { from: "${id('agent/orch')}", to: [worker, worker-rest] }
`).replace('AUDIT', `${e.dir}/audit.log`),
  );
  await e.tg.reload();
}, 60_000);

afterAll(async () => {
  for (const r of waiting) r();
  await alice?.close();
  await asOrch?.close();
  await orch?.close();
  await worker?.close();
  await e?.close();
});

const rpc = (method: string, params: unknown, rpcId: number) => JSON.stringify({ jsonrpc: '2.0', id: rpcId, method, params });
const message = (text: string) => ({ message: { messageId: `m-${text}`, role: 'ROLE_USER', parts: [{ text }] } });

describe('tollgate ctl task cancel, with calls of the task in flight', () => {
  it('ends the open stream and the blocking call, and the callee agent gets CancelTask for the streamed task', async () => {
    // alice starts a root task by calling orch; orch receives the delegation context for its onward calls
    const root = await alice.fetch(`${e.proxyUrl}/a2a/orch/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: rpc('message/send', {}, 1),
    });
    expect(root.status).toBe(200);
    await root.arrayBuffer();
    const context = orch.requests[0].headers['tollgate-delegation'] as string;
    const rootTaskId = context.split('.')[2].split('~')[0];
    const headers = { 'content-type': 'application/json', 'a2a-version': '1.0', 'tollgate-delegation': context };

    // orch -> worker: a stream and a blocking send, both under alice's root task, both left running
    const stream = await asOrch.fetch(`${e.proxyUrl}/a2a/worker/`, { method: 'POST', headers, body: rpc('SendStreamingMessage', message('stream'), 2) });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let text = '';
    const readUntil = async (done: (t: string) => boolean) => {
      while (!done(text)) {
        const c = await reader.read();
        if (c.done) return true;
        text += Buffer.from(c.value).toString('utf8');
      }
      return false;
    };
    await readUntil((t) => t.includes('TASK_STATE_WORKING'));
    const streamedTaskId = (JSON.parse(text.slice(text.indexOf('data:') + 5).split('\n')[0]) as { result: { task: { id: string } } }).result.task.id;
    const blocking = asOrch.fetch(`${e.proxyUrl}/a2a/worker/`, { method: 'POST', headers, body: rpc('SendMessage', message('blocking'), 3) });
    await waitFor('both executions running', () => Promise.resolve(waiting.size === 2 ? true : undefined), 10_000);

    let out = '';
    let err = '';
    const code = await runCtl(['task', 'cancel', rootTaskId, '--server', e.control, '--cert-dir', adminDir], {
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
    });
    expect(code, err).toBe(0);
    expect(out).toContain(`task ${rootTaskId} cancelled`);

    // the stream ends, its last event a JSON-RPC error saying why
    expect(await readUntil(() => false)).toBe(true);
    const last = JSON.parse(text.trim().split('\n').at(-1)!.slice(5)) as {
      id: number;
      error: { code: number; message: string; data: Record<string, unknown> };
    };
    expect(last.id).toBe(2);
    expect(last.error.code).toBe(-31409);
    expect(last.error.data).toMatchObject({ reason: 'task_cancelled', rootTaskId });
    expect(last.error.message).toContain(`root task ${rootTaskId} was cancelled`);

    // the blocking call gets 409 at once (its new task had no id yet: no CancelTask can name it)
    const b = await blocking;
    expect(b.status).toBe(409);
    expect(((await b.json()) as { error: { data: { reason: string } } }).error.data.reason).toBe('task_cancelled');

    // the callee's SDK ran its executor's cancelTask for the streamed task
    await waitFor('the worker to receive CancelTask', () => Promise.resolve(cancelled.length > 0 ? true : undefined), 10_000);
    expect(cancelled).toEqual([streamedTaskId]);

    // a new call under the task is refused as before
    const again = await asOrch.fetch(`${e.proxyUrl}/a2a/worker/`, { method: 'POST', headers, body: rpc('SendMessage', message('again'), 4) });
    expect(again.status).toBe(409);
    await again.arrayBuffer();
    const metrics = await e.tg.metrics.registry.getSingleMetricAsString('tollgate_denials_total');
    expect(metrics).toMatch(/callee="worker",reason="task_cancelled"} 2/);
  });

  it('a stream on the HTTP+JSON binding: ended, and the callee gets CancelTask on its REST route (POST /tasks/{id}:cancel)', async () => {
    cancelled.length = 0;
    const root = await alice.fetch(`${e.proxyUrl}/a2a/orch/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: rpc('message/send', {}, 5),
    });
    expect(root.status).toBe(200);
    await root.arrayBuffer();
    const context = orch.requests.at(-1)!.headers['tollgate-delegation'] as string;
    const rootTaskId = context.split('.')[2].split('~')[0];
    const stream = await asOrch.fetch(`${e.proxyUrl}/a2a/worker-rest/message:stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'a2a-version': '1.0', 'tollgate-delegation': context },
      body: JSON.stringify(message('rest-stream')),
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let text = '';
    while (!text.includes('TASK_STATE_WORKING')) {
      const c = await reader.read();
      if (c.done) break;
      text += Buffer.from(c.value).toString('utf8');
    }
    // REST events are bare StreamResponse objects (no JSON-RPC envelope)
    const streamedTaskId = (JSON.parse(text.slice(text.indexOf('data:') + 5).split('\n')[0]) as { task: { id: string } }).task.id;
    expect(streamedTaskId).toBeTruthy();

    let err = '';
    const code = await runCtl(['task', 'cancel', rootTaskId, '--server', e.control, '--cert-dir', adminDir], {
      stdout: () => {},
      stderr: (t) => void (err += t),
    });
    expect(code, err).toBe(0);
    for (;;) if ((await reader.read()).done) break; // the gateway ends the stream
    await waitFor('the worker to receive CancelTask over REST', () => Promise.resolve(cancelled.length > 0 ? true : undefined), 10_000);
    expect(cancelled).toEqual([streamedTaskId]);
  });
});
