import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { compileAgentTimeouts, timeoutRefusal } from '../../proxy/timeouts.js';
import { StreamTaskIdReader, taskIdOfEvent, taskIdOfRequest } from '../../proxy/a2a/task-id.js';

const ID = 'spiffe://example.org/agent/a';
const cfg = (timeouts: Record<string, unknown>, agentTimeouts?: Record<string, unknown>) =>
  parseConfig({
    trustDomain: 'example.org',
    timeouts,
    agents: { a: { url: 'https://127.0.0.1:1', id: ID, ...(agentTimeouts ? { timeouts: agentTimeouts } : {}) } },
  });

describe('call limits: config validation', () => {
  it('takes v0.3 and v1.0 method names and stores the canonical one', () => {
    const c = cfg({ methods: { 'message/send': '10m' } }, { methods: { SubscribeToTask: '1h', 'tasks/get': 500 } });
    expect(c.timeouts.methods).toEqual({ SendMessage: 600_000 });
    expect(c.agents.a.timeouts?.methods).toEqual({ SubscribeToTask: 3_600_000, GetTask: 500 });
  });

  it('refuses an unknown method, two spellings of one method, 0 and more than 24 days, with their paths', () => {
    expect(() => cfg({ methods: { SendMesage: '1s' } })).toThrow(
      /timeouts\.methods\.SendMesage.*unknown A2A method "SendMesage": use a v1\.0 name \(SendMessage, /,
    );
    expect(() => cfg({}, { methods: { 'message/send': '1s', SendMessage: '2s' } })).toThrow(
      /"SendMessage" and "message\/send" both name SendMessage: keep one/,
    );
    expect(() => cfg({}, { upstream: 0 })).toThrow(/agents\.a\.timeouts\.upstream.*must be longer than 0 and at most 24d/);
    expect(() => cfg({ streamIdle: '30d' })).toThrow(/timeouts\.streamIdle.*at most 24d/);
    expect(() => cfg({ upstream: 0 })).toThrow(/timeouts\.upstream.*must be longer than 0/);
    expect(() => cfg({}, { streamMax: '10x' })).toThrow(/expected a duration/);
  });
});

describe('call limits: the table resolved at config load', () => {
  it('the most specific setting wins: agent method, agent upstream, global method, global upstream', () => {
    const c = cfg({ upstream: '30s', methods: { SendMessage: '10m', GetTask: '5s' } }, { upstream: '1m', methods: { CancelTask: '2s' } });
    const t = compileAgentTimeouts('a', c.agents.a, c.timeouts);
    expect(t.get('CancelTask')).toMatchObject({ upstreamMs: 2000, upstreamFrom: 'agents.a.timeouts.methods.CancelTask' });
    expect(t.get('SendMessage')).toMatchObject({ upstreamMs: 60_000, upstreamFrom: 'agents.a.timeouts.upstream' });
    expect(t.get('unknown')).toMatchObject({ upstreamMs: 60_000 });
    const plain = cfg({ upstream: '30s', methods: { SendMessage: '10m' } });
    const p = compileAgentTimeouts('a', plain.agents.a, plain.timeouts);
    expect(p.get('SendMessage')).toMatchObject({ upstreamMs: 600_000, upstreamFrom: 'timeouts.methods.SendMessage', stream: false });
    expect(p.get('GetTask')).toMatchObject({ upstreamMs: 30_000, upstreamFrom: 'timeouts.upstream' });
  });

  it('streams: no idle or total limit unless configured; an agent overrides the global one, 0 lifts it', () => {
    const none = cfg({});
    expect(compileAgentTimeouts('a', none.agents.a, none.timeouts).get('SubscribeToTask')).toMatchObject({ stream: true, streamIdleMs: 0, streamMaxMs: 0 });
    const c = cfg({ streamIdle: '2m', streamMax: '1h' }, { streamIdle: 0 });
    expect(compileAgentTimeouts('a', c.agents.a, c.timeouts).get('SendStreamingMessage')).toMatchObject({
      stream: true,
      streamIdleMs: 0,
      streamMaxMs: 3_600_000,
      streamMaxFrom: 'timeouts.streamMax',
    });
  });

  it('the 504 names the limit, its value and the setting', () => {
    const c = cfg({ streamIdle: '90s' });
    const t = compileAgentTimeouts('a', c.agents.a, c.timeouts).get('SubscribeToTask')!;
    const r = timeoutRefusal('a', 'SubscribeToTask', t, 'streamIdle');
    expect(r).toMatchObject({ status: 504, code: -31504, reason: 'timeout', data: { limit: 'streamIdle', timeoutMs: 90_000, setting: 'timeouts.streamIdle' } });
    expect(r.message).toBe(`agent "a" sent nothing on its SubscribeToTask event stream for 90s (the gateway's timeouts.streamIdle)`);
  });
});

describe('the callee task id (kill switch)', () => {
  it('from a request: message.taskId for sends, params.id otherwise, the REST subscribe path', () => {
    expect(taskIdOfRequest('SendMessage', { params: { message: { taskId: 't1' } } }, undefined, '')).toBe('t1');
    expect(taskIdOfRequest('SendStreamingMessage', { params: { message: {} } }, undefined, '')).toBeUndefined();
    expect(taskIdOfRequest('SubscribeToTask', { params: { id: 't2' } }, undefined, '')).toBe('t2');
    expect(taskIdOfRequest('SubscribeToTask', undefined, undefined, '/v1/tasks/t%203:subscribe')).toBe('t 3');
    expect(taskIdOfRequest('SendStreamingMessage', undefined, Buffer.from('{"message":{"taskId":"t4"}}'), '/message:stream')).toBe('t4');
  });

  it('from stream events, v1.0 and v0.3, enveloped or bare', () => {
    expect(taskIdOfEvent({ jsonrpc: '2.0', id: 1, result: { task: { id: 'a' } } })).toBe('a');
    expect(taskIdOfEvent({ jsonrpc: '2.0', id: 1, result: { statusUpdate: { taskId: 'b' } } })).toBe('b');
    expect(taskIdOfEvent({ jsonrpc: '2.0', id: 1, result: { kind: 'task', id: 'c' } })).toBe('c');
    expect(taskIdOfEvent({ jsonrpc: '2.0', id: 1, result: { kind: 'status-update', taskId: 'd' } })).toBe('d');
    expect(taskIdOfEvent({ artifactUpdate: { taskId: 'e' } })).toBe('e');
    expect(taskIdOfEvent({ jsonrpc: '2.0', id: 1, result: { message: { taskId: '' } } })).toBeUndefined();
  });

  it('the stream reader finds the first event naming a task across chunk boundaries, then stops', () => {
    const r = new StreamTaskIdReader();
    const body = `: comment\n\ndata: {"jsonrpc":"2.0","id":1,"result":{"message":{"messageId":"m"}}}\r\n\r\ndata: {"jsonrpc":"2.0","id":1,\ndata: "result":{"task":{"id":"T-9"}}}\n\n`;
    const found: (string | undefined)[] = [];
    for (let i = 0; i < body.length; i += 7) found.push(r.push(Buffer.from(body.slice(i, i + 7))));
    expect(found.filter((x) => x !== undefined)).toEqual(['T-9']);
    expect(r.done).toBe(true);
  });
});
