import { describe, expect, it } from 'vitest';
import {
  decodeSegment,
  eventRef,
  listedTasks,
  mentionsTask,
  messageRef,
  namesTask,
  responseRef,
  restRequestRef,
  rpcRequestRef,
  SseTaskScanner,
} from '../../proxy/a2a/task-ids.js';
import { decideTaskAccess, keepListed, parsedRef } from '../../proxy/stages/tasks.js';
import { decideMethod, parseSlow } from '../../proxy/a2a/methods.js';

const A = 'spiffe://example.org/agent/alice';
const B = 'spiffe://example.org/agent/mallory';

describe('the task a request names', () => {
  it('JSON-RPC: params.id for task reads, taskId or id for push configs by protocol version, message.taskId for SendMessage', () => {
    expect(rpcRequestRef('GetTask', 'tasks/get', { id: 't1' }).taskId).toBe('t1');
    expect(rpcRequestRef('GetTask', 'GetTask', { id: 't1', historyLength: 2 }).taskId).toBe('t1');
    expect(rpcRequestRef('CancelTask', 'CancelTask', { id: 't1' }).taskId).toBe('t1');
    expect(rpcRequestRef('SubscribeToTask', 'tasks/resubscribe', { id: 't1' }).taskId).toBe('t1');
    expect(rpcRequestRef('CreateTaskPushNotificationConfig', 'tasks/pushNotificationConfig/set', { taskId: 't1', pushNotificationConfig: {} }).taskId).toBe(
      't1',
    );
    expect(rpcRequestRef('CreateTaskPushNotificationConfig', 'CreateTaskPushNotificationConfig', { task_id: 't1', url: 'x' }).taskId).toBe('t1');
    // v0.3 get/list/delete: params.id is the task; v1.0: params.id is the config, params.taskId the task
    expect(rpcRequestRef('GetTaskPushNotificationConfig', 'tasks/pushNotificationConfig/get', { id: 't1', pushNotificationConfigId: 'c' }).taskId).toBe('t1');
    expect(rpcRequestRef('GetTaskPushNotificationConfig', 'GetTaskPushNotificationConfig', { taskId: 't1', id: 'c' }).taskId).toBe('t1');
    expect(rpcRequestRef('DeleteTaskPushNotificationConfig', 'DeleteTaskPushNotificationConfig', { taskId: 't1', id: 'c' }).taskId).toBe('t1');
    expect(rpcRequestRef('ListTaskPushNotificationConfigs', 'tasks/pushNotificationConfig/list', { id: 't1' }).taskId).toBe('t1');
    expect(rpcRequestRef('SendMessage', 'message/send', { message: { taskId: 't1', contextId: 'c1' } })).toEqual({ taskId: 't1', contextId: 'c1' });
    expect(rpcRequestRef('SendMessage', 'SendMessage', { message: { role: 'ROLE_USER' } })).toEqual({ taskId: '', contextId: '' });
    expect(rpcRequestRef('ListTasks', 'ListTasks', { id: 't1' }).taskId).toBe('');
    expect(rpcRequestRef('GetTask', 'GetTask', 'nonsense').taskId).toBe('');
  });

  it("reads message ids as the SDK's proto JSON does: camelCase if set, else snake_case; numbers as strings", () => {
    expect(messageRef({ task_id: 't', context_id: 'c' })).toEqual({ taskId: 't', contextId: 'c' });
    expect(messageRef({ taskId: null, task_id: 't' }).taskId).toBe('t');
    expect(messageRef({ taskId: '', task_id: 't' }).taskId).toBe('');
    expect(messageRef({ taskId: 42 }).taskId).toBe('42');
    expect(messageRef(undefined).taskId).toBe('');
  });

  it('REST: the path segment after tasks, percent-decoded, suffixes of any case stripped', () => {
    expect(restRequestRef('GetTask', '/a2a/rest/tasks/t1', undefined).taskId).toBe('t1');
    expect(restRequestRef('GetTask', '/acme/tasks/a:b', undefined).taskId).toBe('a:b');
    expect(restRequestRef('CancelTask', '/tasks/t1:cancel', undefined).taskId).toBe('t1');
    expect(restRequestRef('CancelTask', '/v1/tasks/t1:CANCEL', undefined).taskId).toBe('t1');
    expect(restRequestRef('CancelTask', '/tasks/a:cancel:cancel', undefined).taskId).toBe('a:cancel');
    expect(restRequestRef('SubscribeToTask', '/tasks/t1:subscribe', undefined).taskId).toBe('t1');
    expect(restRequestRef('CreateTaskPushNotificationConfig', '/tasks/t1/pushNotificationConfigs', undefined).taskId).toBe('t1');
    expect(restRequestRef('ListTaskPushNotificationConfigs', '/tasks/t1/pushNotificationConfigs/', undefined).taskId).toBe('t1');
    expect(restRequestRef('GetTaskPushNotificationConfig', '/tasks/t1/pushNotificationConfigs/c1', undefined).taskId).toBe('t1');
    expect(restRequestRef('DeleteTaskPushNotificationConfig', '/tasks/t1/pushNotificationConfigs/c1', undefined).taskId).toBe('t1');
    expect(restRequestRef('GetTask', '/tasks/%74%31', undefined).taskId).toBe('t1');
    expect(restRequestRef('SendMessage', '/message:send', { message: { taskId: 't1' } }).taskId).toBe('t1');
    expect(decodeSegment('bad%zz')).toBe('bad%zz');
  });

  it('which methods can name a task', () => {
    expect(namesTask('GetTask')).toBe(true);
    expect(namesTask('SendMessage')).toBe(true);
    expect(namesTask('ListTasks')).toBe(false);
    expect(namesTask('GetExtendedAgentCard')).toBe(false);
  });

  it('the body scan says whether a SendMessage body can name a task: a plain one is never parsed again', () => {
    const flag = (body: string, rest = '') => {
      const m = decideMethod('POST', rest, Buffer.from(body));
      return m.kind === 'ok' ? m.namesTask : undefined;
    };
    expect(
      flag(
        '{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"text","text":"taskId"}]}}}',
      ),
    ).toBe(false);
    expect(flag('{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"taskId":"t"}}}')).toBe(true);
    expect(flag('{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"task_id":"t"}}}')).toBe(true);
    expect(flag('{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"context_id":"c"}}}')).toBe(true);
    expect(flag('{"message":{"contextId":"c"}}', '/message:send')).toBe(true);
    expect(flag('{"message":{"role":"ROLE_USER"}}', '/message:send')).toBe(false);
    // a key spelled with escapes is "taskId" to JSON.parse (and to the SDK): the scan leaves it to JSON.parse
    expect(JSON.parse('{"t\\u0061skId":"t"}')).toEqual({ taskId: 't' });
    expect(flag('{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"t\\u0061skId":"t"}}}')).toBe(true);
    expect(flag('{"message":{"\\u0074ask_id":"t"}}', '/message:send')).toBe(true);
    // no body: nothing to read
    expect(decideMethod('GET', '/tasks/x', undefined)).toMatchObject({ namesTask: false });
  });

  it('the flag is never false where JSON.parse finds such a key (mutated bodies)', () => {
    const seeds = [
      '{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"kind":"message","taskId":"t","parts":[]}}}',
      '{"message":{"role":"ROLE_USER","context_id":"c","parts":[{"text":"x"}]}}',
      '{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"m","metadata":{"a":[{"taskId":1}]}}}}',
    ];
    let x = 7;
    const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pieces = ['"', '\\', 'u0061', 'taskId', 'task_id', '{', '}', ',', ':', 'a', '[', ']', ' '];
    for (let i = 0; i < 5000; i++) {
      let s = seeds[i % seeds.length];
      const at = Math.floor(rnd() * s.length);
      s = s.slice(0, at) + pieces[Math.floor(rnd() * pieces.length)] + s.slice(at + (rnd() < 0.5 ? 1 : 0));
      const slow = parseSlow(s);
      const exact = slow.kind === 'jsonrpc' ? slow.call.namesTask : slow.kind === 'not-jsonrpc' ? slow.namesTask : false;
      const m = decideMethod('POST', '', Buffer.from(s));
      if (exact && m.kind === 'ok') expect(m.namesTask, s).toBe(true);
    }
  });
});

describe('the task a response names', () => {
  it('v1.0 and v0.3 shapes, JSON-RPC and REST', () => {
    expect(responseRef({ jsonrpc: '2.0', id: 1, result: { task: { id: 't', contextId: 'c' } } })).toEqual({ taskId: 't', contextId: 'c' });
    expect(responseRef({ task: { id: 't', contextId: 'c' } })).toEqual({ taskId: 't', contextId: 'c' });
    expect(responseRef({ jsonrpc: '2.0', id: 1, result: { kind: 'task', id: 't', contextId: 'c' } })).toEqual({ taskId: 't', contextId: 'c' });
    expect(responseRef({ jsonrpc: '2.0', id: 1, result: { kind: 'message', taskId: 't', contextId: 'c' } }).taskId).toBe('t');
    expect(responseRef({ message: { taskId: 't', contextId: 'c' } }).taskId).toBe('t');
    expect(responseRef({ statusUpdate: { taskId: 't', contextId: 'c' } }).taskId).toBe('t');
    expect(responseRef({ artifactUpdate: { taskId: 't' } }).taskId).toBe('t');
    expect(responseRef({ kind: 'status-update', taskId: 't' }).taskId).toBe('t');
    expect(responseRef({ kind: 'artifact-update', taskId: 't' }).taskId).toBe('t');
    // a message that belongs to no task, an error, junk
    expect(responseRef({ jsonrpc: '2.0', id: 1, result: { kind: 'message', contextId: 'c' } }).taskId).toBe('');
    expect(responseRef({ jsonrpc: '2.0', id: 1, error: { code: -32001 } }).taskId).toBe('');
    expect(responseRef(null).taskId).toBe('');
    expect(parsedRef(Buffer.from('not json')).taskId).toBe('');
  });

  it('only an answer mentioning "task" is parsed', () => {
    expect(mentionsTask(Buffer.from('{"result":{"kind":"message","parts":[{"text":"ok"}]}}'))).toBe(false);
    expect(mentionsTask(Buffer.from('{"result":{"kind":"task","id":"t"}}'))).toBe(true);
    expect(mentionsTask(Buffer.from('{"message":{"taskId":"t"}}'))).toBe(true);
    expect(mentionsTask(Buffer.from('task'))).toBe(true);
    expect(mentionsTask(Buffer.from('tas'))).toBe(false);
  });

  it('ListTasks answers: the list and its holder', () => {
    const rpc = { jsonrpc: '2.0', id: 1, result: { tasks: [{ id: 'a' }], totalSize: 1 } };
    expect(listedTasks(rpc)?.tasks).toEqual([{ id: 'a' }]);
    expect(listedTasks({ tasks: [] })?.tasks).toEqual([]);
    expect(listedTasks({ jsonrpc: '2.0', id: 1, error: {} })).toBeUndefined();
  });

  it('SSE: events are read whole, across chunk boundaries, until one names a task', () => {
    const ev = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
    const stream =
      ev({ jsonrpc: '2.0', id: 1, result: { kind: 'message', contextId: 'c' } }) +
      ev({ jsonrpc: '2.0', id: 1, result: { task: { id: 't9', contextId: 'c9' } } });
    for (const size of [1, 3, 7, 64, stream.length]) {
      const s = new SseTaskScanner();
      let found = { taskId: '', contextId: '' };
      for (let i = 0; i < stream.length && found.taskId === ''; i += size) found = s.push(Buffer.from(stream.slice(i, i + size)));
      expect(found, `chunks of ${size}`).toEqual({ taskId: 't9', contextId: 'c9' });
    }
    // CRLF framing, a data field split over lines, comments and other fields
    expect(eventRef(Buffer.from(': hi\r\nevent: x\r\ndata: {"task":\r\ndata: {"id":"t"}}'))).toEqual({ taskId: 't', contextId: '' });
    const crlf = new SseTaskScanner();
    expect(crlf.push(Buffer.from('data: {"statusUpdate":{"taskId":"u"}}\r\n\r\n')).taskId).toBe('u');
  });

  it('an event larger than the scanner holds is skipped, and the next one still read', () => {
    const s = new SseTaskScanner(100);
    expect(s.push(Buffer.from(`data: ${'x'.repeat(200)}`)).taskId).toBe('');
    expect(s.push(Buffer.from(`${'y'.repeat(50)}\n\ndata: {"task":{"id":"t"}}\n\n`)).taskId).toBe('t');
  });
});

describe('the decision', () => {
  const base = { callerId: B, callee: 'writer', method: 'GetTask', taskId: 't1', unknownTasks: 'refuse' as const };
  it('the owner passes; another caller gets 403 task_not_owned naming the task, not the owner', () => {
    expect(decideTaskAccess({ ...base, callerId: A, owner: A })).toBeUndefined();
    const r = decideTaskAccess({ ...base, owner: A })!;
    expect(r.status).toBe(403);
    expect(r.reason).toBe('task_not_owned');
    expect(r.message).toContain('"t1"');
    expect(r.message).not.toContain(A);
    expect(r.data).toEqual({ taskId: 't1', callee: 'writer', method: 'GetTask' });
  });

  it('an unknown task: 403 task_unknown, unless config forwards it', () => {
    expect(decideTaskAccess({ ...base, owner: undefined })?.reason).toBe('task_unknown');
    expect(decideTaskAccess({ ...base, owner: undefined, unknownTasks: 'forward' })).toBeUndefined();
    // forward never lets another caller's KNOWN task through
    expect(decideTaskAccess({ ...base, owner: A, unknownTasks: 'forward' })?.reason).toBe('task_not_owned');
  });

  it('ListTasks keeps own tasks (and unknown ones only with forward)', () => {
    expect(keepListed(A, A, 't', 'refuse')).toBe(true);
    expect(keepListed(B, A, 't', 'forward')).toBe(false);
    expect(keepListed(undefined, A, 't', 'refuse')).toBe(false);
    expect(keepListed(undefined, A, 't', 'forward')).toBe(true);
    expect(keepListed(A, A, '', 'refuse')).toBe(false);
  });
});
