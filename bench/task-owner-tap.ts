/**
 * CPU per call of task ownership on the request path (proxy/stages/tasks.ts), measured in-process without
 * sockets: the stage's check before forwarding, the response tap as the engine feeds it, and its end.
 *
 *   node dist/bench/task-owner-tap.js [ITERATIONS]   (default 200000)
 *
 * Cases:
 *   plain SendMessage      the benchmark's call: v0.3 message/send, echo Message answer (~150 bytes). No lookup
 *                          (the request scan saw no taskId key); the tap keeps the chunk, looks for "task" in it
 *                          at the end, parses nothing.
 *   SendMessage -> Task    the answer creates a task: parsed once at the end, owner recorded (in-process LRU)
 *   GetTask (owned)        a call naming a task: request parsed, owner looked up (a settled promise)
 *   stream, 5 events       SendStreamingMessage: the first event names the task, the tap goes quiet after it
 * The figure is wall time per call on one core with nothing else running in the loop: CPU time of this code.
 */
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Exchange, type ExchangeSink } from '../proxy/exchange.js';
import { LruTaskOwners } from '../proxy/a2a/task-owners.js';
import { TaskOwnership } from '../proxy/stages/tasks.js';
import type { Runtime } from '../proxy/runtime.js';
import { decideMethod } from '../proxy/a2a/methods.js';

const N = Number(process.argv[2] ?? 200_000);
const ALICE = 'spiffe://bench.local/agent/alice';

const req = { method: 'POST', headers: {} } as unknown as IncomingMessage;
const res = {} as ServerResponse;
const rt = {} as Runtime;
const sink = {} as ExchangeSink;
const owners = new LruTaskOwners(100_000, 86_400_000);
const stage = new TaskOwnership({ owners });

const SEND = Buffer.from(
  '{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m-1","parts":[{"kind":"text","text":"hi"}]}}}',
);
const ECHO = Buffer.from(
  '{"jsonrpc":"2.0","id":1,"result":{"kind":"message","role":"agent","messageId":"b7f0c1de-0000-4000-8000-000000000001","parts":[{"kind":"text","text":"ok"}]}}',
);
const taskAnswer = (id: string) =>
  Buffer.from(`{"jsonrpc":"2.0","id":1,"result":{"kind":"task","id":"${id}","contextId":"c-1","status":{"state":"input-required"},"history":[]}}`);
const GET = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"id":"owned-task"}}');
const event = (o: unknown) => Buffer.from(`data: ${JSON.stringify(o)}\n\n`);

function exchange(method: string, body: Buffer, isRpc = true): Exchange {
  const ex = new Exchange(req, res, 0, 0, rt, sink);
  ex.namesTask = body !== SEND; // what decideMethod's scan says (measured on its own below)
  ex.callerId = ALICE;
  ex.callee = 'writer';
  ex.method = method;
  ex.isRpc = isRpc;
  ex.body = body;
  ex.status = 200;
  return ex;
}

/** The fastest of 5 rounds of N/5 calls (the machine may be busy: the minimum is the code's own cost). */
async function measure(name: string, one: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < Math.min(N, 20_000); i++) await one(i); // warm up
  const per = Math.max(1, Math.floor(N / 5));
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) {
      const p = one(round * per + i);
      if (p instanceof Promise) await p;
    }
    best = Math.min(best, ((performance.now() - t0) * 1000) / per);
  }
  console.log(`${name.padEnd(26)} ${best.toFixed(3)} us/call`);
  return best;
}

/** the same call without the stage: what the exchange itself costs, subtracted from the figures below */
const bare = (): Exchange => exchange('SendMessage', SEND);

const base = await measure('exchange alone (baseline)', () => {
  const ex = bare();
  ex.streaming = false;
});
// the method decision already on the request path, now also noting taskId/contextId keys (a2a/scan.ts)
await measure('decideMethod (existing)', () => decideMethod('POST', '', SEND));
const plain = await measure('plain SendMessage', () => {
  const ex = exchange('SendMessage', SEND);
  void stage.check(ex, 'refuse');
  ex.streaming = false;
  ex.tap!.data(ECHO);
  ex.tap!.end(true);
});
console.log(`${'  = the stage + tap'.padEnd(26)} ${(plain - base).toFixed(3)} us/call`);
await measure('SendMessage -> Task', (i) => {
  const ex = exchange('SendMessage', SEND);
  void stage.check(ex, 'refuse');
  ex.tap!.data(taskAnswer(`t-${i}`));
  ex.tap!.end(true);
});
void owners.recordOwner('writer', 'owned-task', ALICE);
await measure('GetTask (owned)', () => stage.check(exchange('GetTask', GET), 'refuse'));
const events = [
  event({ jsonrpc: '2.0', id: 1, result: { kind: 'task', id: 's-1', contextId: 'c', status: { state: 'submitted' } } }),
  ...Array.from({ length: 4 }, () =>
    event({ jsonrpc: '2.0', id: 1, result: { kind: 'status-update', taskId: 's-1', contextId: 'c', status: { state: 'working' } } }),
  ),
];
await measure('stream, 5 events', () => {
  const ex = exchange('SendStreamingMessage', SEND);
  void stage.check(ex, 'refuse');
  ex.streaming = true;
  for (const e of events) ex.tap!.data(e);
  ex.tap!.end(true);
});
