import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, baseConfig, id, type E2e } from './harness.js';
import { startStandInUpstream, handlers, type StandInUpstream, type UpstreamHandler } from '../fakes/upstream.js';
import { mtlsClient, type MtlsClient } from '../fakes/mtls-client.js';
import { waitFor } from '../fakes/wait.js';
import { ROOT } from '../build.js';
import type { TaskTreeJSON } from '../../governance/graph/index.js';

/**
 * OpenTelemetry export (config `tracing:`) through the composed gateway, received by an OTLP/HTTP endpoint
 * that decodes the protobuf bodies with the OpenTelemetry protocol's own definitions (the protobufjs module
 * @opentelemetry/otlp-transformer generated from opentelemetry-proto, installed as otlp-proto-0.52), checked
 * against the gateway's call tree of a looping task: alice -> orchestrator -> {researcher, writer};
 * researcher -> orchestrator (cut, 508).
 */
const require = createRequire(import.meta.url);
const otlp = require('otlp-proto-0.52/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtoType; ExportTraceServiceResponse: ProtoType } } } } };
};
interface ProtoType {
  decode(b: Uint8Array): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  toObject(m: unknown, o: Record<string, unknown>): unknown;
}

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status?: { code?: string; message?: string };
  attributes: Record<string, string | number>;
  service: string;
}

let e: E2e;
let receiver: http.Server;
const received: ReceivedSpan[] = [];
const contentTypes = new Set<string>();
const upstreams: Record<string, StandInUpstream> = {};
const clients: Record<string, MtlsClient> = {};

function attrValue(v: Record<string, unknown>): string | number {
  if ('stringValue' in v) return v.stringValue as string;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue as number;
  return JSON.stringify(v);
}

function decode(body: Buffer): ReceivedSpan[] {
  const T = otlp.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
  const req = T.toObject(T.decode(body), { longs: String, enums: String, bytes: String }) as {
    resourceSpans: { resource: { attributes: { key: string; value: Record<string, unknown> }[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[];
  };
  const hex = (b64: unknown) => Buffer.from(typeof b64 === 'string' ? b64 : '', 'base64').toString('hex');
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans) {
    const service = String(attrValue(rs.resource.attributes.find((a) => a.key === 'service.name')!.value));
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) {
        const attributes = Object.fromEntries((s.attributes as { key: string; value: Record<string, unknown> }[]).map((a) => [a.key, attrValue(a.value)]));
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name as string,
          kind: s.kind as string,
          startTimeUnixNano: s.startTimeUnixNano as string,
          endTimeUnixNano: s.endTimeUnixNano as string,
          status: s.status as ReceivedSpan['status'],
          attributes,
          service,
        });
      }
  }
  return out;
}

const body = (rpcId: number) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: rpcId,
    method: 'message/send',
    params: { message: { kind: 'message', role: 'user', messageId: `m${rpcId}`, parts: [{ kind: 'text', text: 'go' }] } },
  });

async function call(from: string, to: string, rpcId: number, delegation?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (delegation) headers['tollgate-delegation'] = delegation;
  const res = await clients[from].fetch(`${e.proxyUrl}/a2a/${to}/`, { method: 'POST', headers, body: body(rpcId) });
  return { status: res.status, json: (await res.json()) as { error?: { data?: Record<string, unknown> } } };
}
const lastHeaders = (agent: string) => upstreams[agent].requests.at(-1)!.headers;

/** a callee that reports what the call cost (tollgate-cost) */
const costly: UpstreamHandler = (req, res) => {
  const b = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { kind: 'message', role: 'agent', messageId: 'w', parts: [{ kind: 'text', text: 'ok' }] } });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b), 'tollgate-cost': '2.5' });
  res.end(b);
};

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.add(String(req.headers['content-type']));
      if (req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      received.push(...decode(Buffer.concat(chunks)));
      const R = otlp.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(R.encode({}).finish()));
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as { port: number }).port;
  e = await startE2e(baseConfig(`tracing: { endpoint: "http://127.0.0.1:${port}/v1/traces", serviceName: tollgate-test, batchDelay: 50ms }\n`));
  for (const name of ['orchestrator', 'researcher', 'writer']) {
    const m = await e.enroll(id(`agent/${name}`));
    upstreams[name] = await startStandInUpstream({ ...m, handler: name === 'writer' ? costly : handlers.jsonRpcOk() });
    clients[name] = mtlsClient(m, m.bundlePem);
  }
  const alice = await e.enroll(id('user/alice'));
  clients.alice = mtlsClient(alice, alice.bundlePem);
  fs.appendFileSync(
    e.configPath,
    `agents:
  orchestrator: { url: ${upstreams.orchestrator.url}, id: ${id('agent/orchestrator')} }
  researcher: { url: ${upstreams.researcher.url}, id: ${id('agent/researcher')} }
  writer: { url: ${upstreams.writer.url}, id: ${id('agent/writer')} }
policy:
  - { from: ${id('user/*')}, to: [orchestrator] }
  - { from: ${id('agent/orchestrator')}, to: [researcher, writer] }
  - { from: ${id('agent/researcher')}, to: [orchestrator] }
`,
  );
  await e.tg.reload();
}, 60_000);

afterAll(async () => {
  for (const c of Object.values(clients)) await c.close();
  for (const u of Object.values(upstreams)) await u.close();
  await e?.close();
  await new Promise((r) => receiver?.close(r));
});

describe('traces of governed calls over OTLP', () => {
  it('one trace per root task whose span tree is the gateway call tree, with caller, callee, method, decision, reason, cost', async () => {
    expect((await call('alice', 'orchestrator', 1)).status).toBe(200);
    const orchestrator = lastHeaders('orchestrator')['tollgate-delegation'] as string;
    expect((await call('orchestrator', 'researcher', 2, orchestrator)).status).toBe(200);
    expect((await call('orchestrator', 'writer', 3, orchestrator)).status).toBe(200);
    const back = await call('researcher', 'orchestrator', 4, lastHeaders('researcher')['tollgate-delegation'] as string);
    expect(back.status).toBe(508);
    const rootTaskId = String(back.json.error!.data!.rootTaskId);
    const tree = e.tg.stage.graph.taskJSON(rootTaskId) as TaskTreeJSON;
    expect(tree.calls).toHaveLength(4);

    const spans = await waitFor('the task spans at the receiver', () => {
      const mine = received.filter((s) => s.attributes['tollgate.task.id'] === rootTaskId);
      return Promise.resolve(mine.length >= tree.calls.length ? mine : undefined);
    });
    expect(contentTypes).toEqual(new Set(['application/x-protobuf']));
    expect(spans).toHaveLength(4);
    // one trace, the one the gateway's tree and the outbound traceparent carry
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([tree.calls[0].traceId]));
    const byCall = new Map(spans.map((s) => [s.attributes['tollgate.call.id'], s]));
    const spanIds = new Map(spans.map((s) => [s.spanId, s]));
    // the tree of spans is the call tree: same nodes, each span's parent is its calling hop's span
    const fromSpans = spans.map((s) => ({
      call: s.attributes['tollgate.call.id'],
      parent: s.parentSpanId === '' ? null : (spanIds.get(s.parentSpanId)?.attributes['tollgate.call.id'] ?? 'outside the task'),
      edge: `${s.attributes['tollgate.caller.id']} -> ${s.attributes['tollgate.callee.name']} ${s.attributes['rpc.method']}`,
      refused: s.attributes['tollgate.decision'] === 'refuse' ? s.attributes['tollgate.refusal.reason'] : undefined,
    }));
    const fromTree = tree.calls.map((c) => ({
      call: c.id,
      parent: c.parent,
      edge: `${c.caller} -> ${c.calleeName} ${c.method}`,
      refused: c.decision === 'refused' ? c.reason : undefined,
    }));
    const byId = (a: { call: unknown }, b: { call: unknown }) => String(a.call).localeCompare(String(b.call));
    expect(fromSpans.sort(byId)).toEqual(fromTree.sort(byId));

    // attributes and status
    const root = byCall.get(tree.calls.find((c) => c.parent === null)!.id)!;
    expect(root).toMatchObject({ service: 'tollgate-test', kind: 'SPAN_KIND_SERVER', name: 'SendMessage orchestrator', parentSpanId: '' });
    expect(root.attributes).toMatchObject({
      'tollgate.caller.id': id('user/alice'),
      'tollgate.callee.id': id('agent/orchestrator'),
      'tollgate.decision': 'allow',
      'http.response.status_code': 200,
      'rpc.system': 'a2a',
    });
    const writer = spans.find((s) => s.attributes['tollgate.callee.name'] === 'writer')!;
    expect(writer.attributes['tollgate.cost']).toBe(2.5);
    const cut = spans.find((s) => s.attributes['tollgate.decision'] === 'refuse')!;
    expect(cut.attributes).toMatchObject({ 'tollgate.refusal.reason': 'loop', 'http.response.status_code': 508, 'tollgate.caller.name': 'researcher' });
    expect(cut.status?.code).toBe('STATUS_CODE_ERROR');
    expect(BigInt(cut.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(cut.startTimeUnixNano));

    // the traceparent each callee received names the gateway's span for that call (callee spans hang under it)
    for (const agent of ['orchestrator', 'researcher', 'writer']) {
      const [, traceId, spanId] = String(lastHeaders(agent).traceparent).split('-');
      expect(spanIds.get(spanId)?.attributes['tollgate.callee.name']).toBe(agent);
      expect(traceId).toBe(root.traceId);
    }
  });

  it("a call refused by policy is a span too, in the caller's trace when it sent a traceparent", async () => {
    const traceId = 'a'.repeat(31) + '1';
    const parent = 'b'.repeat(15) + '2';
    const res = await clients.alice.fetch(`${e.proxyUrl}/a2a/writer/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parent}-01` },
      body: body(9),
    });
    expect(res.status).toBe(403);
    await res.arrayBuffer();
    const span = await waitFor('the refused span', () => Promise.resolve(received.find((s) => s.traceId === traceId)));
    expect(span).toMatchObject({ parentSpanId: parent, name: 'SendMessage writer' });
    expect(span.attributes).toMatchObject({ 'tollgate.decision': 'deny', 'tollgate.refusal.reason': 'no_rule', 'http.response.status_code': 403 });
  });

  it('the OpenTelemetry packages are loaded only when tracing is configured', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, f.name);
        if (f.isDirectory()) walk(p);
        else if (p.endsWith('.ts')) {
          const src = fs.readFileSync(p, 'utf8');
          if (/from '@opentelemetry\//.test(src.replace(/import type [^;]+;/g, '')) && !p.endsWith(path.join('gateway', 'tracing.ts'))) offenders.push(p);
          if (/^import [^;]*'\.\/tracing\.js'/m.test(src)) offenders.push(`${p} (static import of tracing.js)`);
        }
      }
    };
    for (const d of ['proxy', 'gateway', 'governance', 'control', 'cli', 'config']) walk(path.join(ROOT, d));
    expect(offenders).toEqual([]);
    const tracing = fs.readFileSync(path.join(ROOT, 'gateway', 'tracing.ts'), 'utf8');
    expect(tracing.replace(/import type [^;]+;/g, '')).not.toMatch(/^import .*'@opentelemetry/m);
  });
});
