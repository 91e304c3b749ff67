import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentEvent, type AgentExecutor } from '@a2a-js/sdk/server';
import { startHarness, ECHO_ID, type Harness } from './harness.js';
import { handlers, type UpstreamHandler } from '../fakes/upstream.js';
import { agentMessage, slowTaskExecutor, startA2aAgent, type RunningAgent } from '../fakes/a2a-agent.js';
import type { AuditRecord } from '../../proxy/index.js';

/**
 * Call limits per agent and per method (agents.<name>.timeouts, timeouts.methods, streamIdle, streamMax),
 * over real sockets: a stand-in upstream for exact timing, a real @a2a-js/sdk agent for the A2A shapes.
 * Limits are small to keep the tests fast; every expectation says which limit the gateway named.
 */

const v1 = (method: string, params: unknown, id: number | string = 1) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
const SEND_V1 = (text: string, id = 1) => v1('SendMessage', { message: { messageId: `m-${id}`, role: 'ROLE_USER', parts: [{ text }] } }, id);
const STREAM_V1 = (text: string, id = 1) => v1('SendStreamingMessage', { message: { messageId: `s-${id}`, role: 'ROLE_USER', parts: [{ text }] } }, id);

function audited(): {
  lines: AuditRecord[];
  audit: { write(r: AuditRecord): void; flush(): void; flushed(): Promise<void>; close(): Promise<void>; checkpoint(): void; setSigner(): void };
} {
  const lines: AuditRecord[] = [];
  return {
    lines,
    audit: {
      write: (r) => lines.push(r),
      flush: () => undefined,
      flushed: () => Promise.resolve(),
      close: () => Promise.resolve(),
      checkpoint: () => undefined,
      setSigner: () => undefined,
    },
  };
}

/** POST through the gateway and read the whole answer; ms = time until it ended. */
async function call(h: Harness, path: string, body: string, headers: Record<string, string> = {}) {
  const t0 = Date.now();
  const r = await h.client(h.alice).fetch(`${h.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, text, json, ms: Date.now() - t0 };
}

/** The data: payloads of an SSE body, parsed. */
function events(text: string): any[] {
  return text
    .split(/\n\n/)
    .map((b) => b.split('\n').filter((l) => l.startsWith('data:')))
    .filter((d) => d.length > 0)
    .map((d) => JSON.parse(d.map((l) => l.slice(5).trim()).join('\n')));
}

/** An SSE handler: `first` at once, then silence for quietMs, then `last` and the end of the stream. */
function quietStream(quietMs: number): UpstreamHandler {
  return (_req, res) =>
    new Promise<void>((resolve) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { n: 1 } })}\n\n`);
      const t = setTimeout(() => {
        res.end(`data: ${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { n: 2 } })}\n\n`);
        resolve();
      }, quietMs);
      res.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
}

describe('a quiet event stream is not cut by the gateway (no stream limit configured)', () => {
  let h: Harness;
  beforeAll(async () => {
    // The old engine set undici's body timeout to max(timeouts.idle, timeouts.upstream): 300 ms here.
    h = await startHarness({ handler: quietStream(1500), extraConfig: { timeouts: { idle: '300ms', upstream: '300ms' } } });
  });
  afterAll(async () => h?.close());

  it('a stream quiet for 1.5 s (5x timeouts.upstream and timeouts.idle) reaches its end intact', async () => {
    const r = await call(h, '/a2a/echo/', STREAM_V1('hi'));
    expect(r.status).toBe(200);
    expect(events(r.text).map((e) => e.result?.n)).toEqual([1, 2]);
    expect(r.ms).toBeGreaterThanOrEqual(1400);
  });
});

describe('per-method limits (stand-in upstream answering after 1 s)', () => {
  let h: Harness;
  const { lines, audit } = audited();
  beforeAll(async () => {
    h = await startHarness({ audit, handler: handlers.slow(1000), extraConfig: { taskOwners: { unknownTasks: 'forward' } } });
    h.gw.reloadConfig(
      h.config({
        timeouts: { upstream: '200ms', methods: { GetTask: '5s' } },
        agents: { echo: { url: h.upstream.url, id: ECHO_ID, timeouts: { upstream: '300ms', methods: { 'message/send': '5s' } } } },
      }),
    );
  });
  afterAll(async () => h?.close());

  it('a blocking SendMessage allowed 5 s by agents.echo.timeouts.methods (v0.3 spelling) succeeds after 1 s', async () => {
    const r = await call(h, '/a2a/echo/', SEND_V1('slow'));
    expect(r.status).toBe(200);
    expect(r.ms).toBeGreaterThanOrEqual(900);
  });

  it("GetTask: the agent's own upstream (300 ms) wins over timeouts.methods.GetTask (5 s): 504 naming the limit", async () => {
    const r = await call(h, '/a2a/echo/', v1('GetTask', { id: 't-1' }, 7));
    expect(r.status).toBe(504);
    expect(r.ms).toBeLessThan(950);
    expect(r.json.id).toBe(7);
    expect(r.json.error.code).toBe(-31504);
    expect(r.json.error.data).toEqual({ reason: 'timeout', limit: 'upstream', timeoutMs: 300, setting: 'agents.echo.timeouts.upstream', method: 'GetTask' });
    expect(r.json.error.message).toBe(`agent "echo" did not answer GetTask within 300ms (the gateway's agents.echo.timeouts.upstream)`);
    expect(lines.at(-1)).toMatchObject({ method: 'GetTask', decision: 'error', reason: 'timeout', status: 504 });
  });
});

describe('stream limits, configured (streamIdle, streamMax)', () => {
  let h: Harness;
  const { lines, audit } = audited();
  beforeAll(async () => {
    h = await startHarness({ audit, handler: quietStream(2000), extraConfig: { timeouts: { streamIdle: '400ms' } } });
  });
  afterAll(async () => h?.close());

  it('a stream quiet for longer than timeouts.streamIdle ends cleanly with a JSON-RPC error event naming the limit', async () => {
    const r = await call(h, '/a2a/echo/', STREAM_V1('hi', 9));
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(1900);
    const ev = events(r.text);
    expect(ev).toHaveLength(2);
    expect(ev[0].result).toEqual({ n: 1 });
    expect(ev[1]).toMatchObject({ id: 9, error: { code: -31504, data: { limit: 'streamIdle', timeoutMs: 400, setting: 'timeouts.streamIdle' } } });
    expect(lines.at(-1)).toMatchObject({ method: 'SendStreamingMessage', decision: 'error', reason: 'timeout', status: 200 });
    expect(await h.metrics.registry.getSingleMetricAsString('tollgate_upstream_errors_total')).toMatch(/callee="echo",kind="timeout"} 1/);
  });

  it("an agent's streamMax ends a busy stream at its longest allowed time; its streamIdle 0 lifts the global one", async () => {
    h.upstream.setHandler(
      handlers.sse(
        Array.from({ length: 40 }, (_, i) => ({ jsonrpc: '2.0', id: 3, result: { n: i } })),
        50,
      ),
    );
    h.gw.reloadConfig(
      h.config({ timeouts: { streamIdle: '30ms' }, agents: { echo: { url: h.upstream.url, id: ECHO_ID, timeouts: { streamIdle: 0, streamMax: '600ms' } } } }),
    );
    const r = await call(h, '/a2a/echo/', STREAM_V1('hi', 3));
    const ev = events(r.text);
    expect(ev.length).toBeGreaterThan(5);
    expect(ev.length).toBeLessThan(40);
    expect(ev.at(-1)).toMatchObject({ id: 3, error: { data: { limit: 'streamMax', timeoutMs: 600, setting: 'agents.echo.timeouts.streamMax' } } });
  });
});

describe('real SDK agents: a slow blocking SendMessage, a quiet stream', () => {
  let h: Harness;
  const agents: RunningAgent[] = [];
  const slow: AgentExecutor = {
    async execute(rc, bus) {
      await new Promise((r) => setTimeout(r, 1500));
      bus.publish(AgentEvent.message(agentMessage('done', { contextId: rc.contextId })));
      bus.finished();
    },
    async cancelTask() {},
  };
  beforeAll(async () => {
    h = await startHarness();
    const start = async (name: string, executor: AgentExecutor) => {
      const id = await h.td.issue(`spiffe://${h.td.trustDomain}/agent/${name}`, { dns: ['localhost'], ips: ['127.0.0.1'] });
      const a = await startA2aAgent({ name, keyPem: id.keyPem, certChainPem: id.certChainPem, bundlePem: h.td.bundlePem, executor });
      agents.push(a);
      return { url: `${a.url}/a2a/jsonrpc`, id: id.id };
    };
    const blocking = await start('blocking', slow);
    const streaming = await start('streaming', slowTaskExecutor(1200, 1));
    h.gw.reloadConfig(
      h.config({
        timeouts: { upstream: '500ms', idle: '500ms' },
        agents: {
          echo: { url: h.upstream.url, id: ECHO_ID },
          // the same agent twice: one with a per-method limit for blocking sends, one on the global limit
          patient: { ...blocking, timeouts: { methods: { SendMessage: '10s' } } },
          hasty: blocking,
          streaming,
        },
        policy: [{ from: h.alice.id, to: ['patient', 'hasty', 'streaming'] }],
      }),
    );
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all(agents.map((a) => a.close()));
  });

  it('runs 1.5 s under agents.patient.timeouts.methods.SendMessage, and gets 504 under timeouts.upstream (500 ms)', async () => {
    const [ok, cut] = await Promise.all([
      call(h, '/a2a/patient/', SEND_V1('slow', 1), { 'a2a-version': '1.0' }),
      call(h, '/a2a/hasty/', SEND_V1('slow', 2), { 'a2a-version': '1.0' }),
    ]);
    expect(ok.status).toBe(200);
    expect(ok.json.result.message.parts[0].text).toBe('done');
    expect(cut.status).toBe(504);
    expect(cut.json.error.data).toMatchObject({ limit: 'upstream', timeoutMs: 500, setting: 'timeouts.upstream', method: 'SendMessage' });
  });

  it('an SDK stream quiet for 1.2 s between events (2x timeouts.upstream and timeouts.idle) is not cut', async () => {
    const r = await call(h, '/a2a/streaming/', STREAM_V1('go', 5), { 'a2a-version': '1.0' });
    expect(r.status).toBe(200);
    const states = events(r.text).map((e) => e.result?.task?.status?.state ?? e.result?.statusUpdate?.status?.state);
    expect(states[0]).toBe('TASK_STATE_SUBMITTED');
    expect(states.at(-1)).toBe('TASK_STATE_COMPLETED');
    expect(r.ms).toBeGreaterThanOrEqual(1100);
  });
});
