import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory, RestTransportFactory } from '@a2a-js/sdk/client';
import { Role } from '@a2a-js/sdk';
import { startHarness, get, type Harness } from './harness.js';
import { startA2aAgent, slowTaskExecutor, textPart, type RunningAgent } from '../fakes/a2a-agent.js';
import type { MtlsClient } from '../fakes/mtls-client.js';

const WRITER = 'spiffe://example.org/agent/writer';
const SLOW = 'spiffe://example.org/agent/slow';

function userMessage(text: string) {
  return {
    messageId: randomUUID(),
    role: Role.ROLE_USER,
    parts: [textPart(text)],
    contextId: '',
    taskId: '',
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

function factory(c: MtlsClient, legacy = false) {
  return new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [
        new JsonRpcTransportFactory({ fetchImpl: c.fetch, legacyCompat: { enabled: legacy } }),
        new RestTransportFactory({ fetchImpl: c.fetch, legacyCompat: { enabled: legacy } }),
      ],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl: c.fetch, legacyCompat: { enabled: legacy } }),
    }),
  );
}

describe('interop with real @a2a-js/sdk agents and clients through the gateway', () => {
  let h: Harness;
  let writer: RunningAgent;
  let slow: RunningAgent;
  beforeAll(async () => {
    h = await startHarness();
    const wid = await h.td.issue(WRITER, { ips: ['127.0.0.1'] });
    const sid = await h.td.issue(SLOW, { ips: ['127.0.0.1'] });
    writer = await startA2aAgent({ name: 'writer', keyPem: wid.keyPem, certChainPem: wid.certChainPem, bundlePem: h.td.bundlePem });
    slow = await startA2aAgent({
      name: 'slow',
      keyPem: sid.keyPem,
      certChainPem: sid.certChainPem,
      bundlePem: h.td.bundlePem,
      executor: slowTaskExecutor(250, 3),
    });
    h.gw.reloadConfig(
      h.config({
        agents: {
          echo: { url: h.upstream.url, id: 'spiffe://example.org/agent/echo' },
          writer: { url: writer.url, id: WRITER },
          slow: { url: slow.url, id: SLOW },
        },
        policy: [
          { from: 'spiffe://example.org/agent/alice', to: ['writer', 'slow'], methods: ['SendMessage', 'message/stream', 'GetTask'] },
          { from: 'spiffe://example.org/agent/mallory', to: ['echo'] },
        ],
      }),
    );
  });
  afterAll(async () => {
    await h?.close();
    await writer?.close();
    await slow?.close();
  });

  it('sends message/send via the card fetched through the gateway (v1.0 client)', async () => {
    const c = h.client(h.alice);
    const client = await factory(c).createFromUrl(`${h.base}/a2a/writer/`);
    const res = await client.sendMessage({ tenant: '', message: userMessage('hello'), configuration: undefined, metadata: undefined });
    const parts = (res as { parts?: { content?: { value?: string } }[] }).parts;
    expect(parts?.[0]?.content?.value).toBe('echo: hello');
  });

  it('works for a v0.3 (legacy) client too', async () => {
    const c = h.client(h.alice);
    const client = await factory(c, true).createFromUrl(`${h.base}/a2a/writer/`);
    const res = await client.sendMessage({ tenant: '', message: userMessage('old'), configuration: undefined, metadata: undefined });
    expect(JSON.stringify(res)).toContain('echo: old');
  });

  it('streams message/stream events as they are produced', async () => {
    const c = h.client(h.alice);
    const client = await factory(c).createFromUrl(`${h.base}/a2a/slow/`);
    const t0 = Date.now();
    const at: number[] = [];
    const kinds: string[] = [];
    for await (const ev of client.sendMessageStream({ tenant: '', message: userMessage('go'), configuration: undefined, metadata: undefined })) {
      at.push(Date.now() - t0);
      kinds.push(ev.payload?.$case ?? '?');
    }
    expect(kinds[0]).toBe('task');
    expect(kinds.length).toBeGreaterThanOrEqual(4);
    // the first event arrives well before the last (the executor waits 250 ms between steps)
    expect(at[at.length - 1] - at[0]).toBeGreaterThan(500);
  });

  it("rewrites the card: gateway URLs (gRPC kept as declared), the gateway's signature, mTLS scheme; ETag gives 304", async () => {
    const c = h.client(h.alice);
    const r = await get(c, `${h.base}/a2a/writer/.well-known/agent-card.json`, { 'a2a-version': '1.0' });
    expect(r.status).toBe(200);
    const card = r.json;
    expect(card.supportedInterfaces.length).toBeGreaterThan(0);
    for (const i of card.supportedInterfaces) {
      if (i.protocolBinding === 'GRPC') expect(i.url).toBe(`127.0.0.1:${writer.port + 1}`);
      else expect(i.url.startsWith(`${h.base}/a2a/writer/a2a/`)).toBe(true);
    }
    expect(card.signatures).toHaveLength(1); // the gateway's (test/proxy/signed-cards.test.ts verifies it)
    expect(card.securitySchemes.tollgateMtls).toEqual({ mtlsSecurityScheme: expect.any(Object) });
    const etag = r.headers.get('etag')!;
    const again = await get(c, `${h.base}/a2a/writer/.well-known/agent-card.json`, { 'a2a-version': '1.0', 'if-none-match': etag });
    expect(again.status).toBe(304);
    // v0.3 shape when no A2A-Version is sent
    const legacy = await get(c, `${h.base}/a2a/writer/.well-known/agent-card.json`);
    expect(legacy.json.url).toBe(`${h.base}/a2a/writer/a2a/jsonrpc`);
    expect(legacy.json.securitySchemes.tollgateMtls).toMatchObject({ type: 'mutualTLS' });
    expect(legacy.json.security).toEqual([{ tollgateMtls: [] }]);
  });

  it('discovery obeys policy: card 403 and a directory of exactly the callable agents', async () => {
    const m = h.client(h.mallory);
    const denied = await get(m, `${h.base}/a2a/writer/.well-known/agent-card.json`);
    expect(denied.status).toBe(403);
    const dirA = await get(h.client(h.alice), `${h.base}/a2a`);
    expect(dirA.status).toBe(200);
    expect(dirA.json.agents.map((a: { name: string }) => a.name).sort()).toEqual(['slow', 'writer']);
    expect(dirA.json.agents[0].card.name).toBeDefined();
  });

  it('denies a method the rule does not list (v0.3 name in the body, v1.0 name in the rule)', async () => {
    const c = h.client(h.alice);
    const r = await c.fetch(`${h.base}/a2a/writer/a2a/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'x1', method: 'tasks/cancel', params: { id: 't' } }),
    });
    expect(r.status).toBe(403);
    const body = (await r.json()) as { id: string; error: { data: { reason: string } } };
    expect(body.id).toBe('x1');
    expect(body.error.data.reason).toBe('method_not_allowed');
  });
});
