/**
 * An agent server behind the real gateway learns revocations from the identity API (GetRevocations, polled)
 * and refuses a revoked gateway certificate: revoking the gateway's serial stops calls at the callee within
 * the poll interval, on the kept-alive connection the gateway already has open to it.
 */
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, baseConfig, id, type E2e } from './harness.js';
import { mtlsClient, type MtlsClient, messageSend } from '../fakes/mtls-client.js';
import { AgentIdentity, createAgentServer, type AgentServer } from '../../agent-bootstrap/index.js';
import { normalizeSerial } from '../../certs/svid.js';
import { pemBlocks } from '../../certs/pem.js';

const POLL_MS = 200;
let e: E2e;
let worker: AgentServer;
let alice: MtlsClient;
let served = 0;

beforeAll(async () => {
  e = await startE2e(baseConfig());
  const identity = new AgentIdentity(await e.enroll(id('agent/worker')), { server: e.control });
  const app = express();
  app.post('/', (_req, res) => {
    served++;
    res.json({ jsonrpc: '2.0', id: 1, result: { kind: 'message', role: 'agent', messageId: 'r', parts: [{ kind: 'text', text: 'ok' }] } });
  });
  worker = await createAgentServer(app, identity, { allowedCallers: [id('tollgate/gateway')], revocationPollMs: POLL_MS });
  const aliceId = await e.enroll(id('user/alice'));
  alice = mtlsClient(aliceId, aliceId.bundlePem, { connections: 1 });
  fs.writeFileSync(
    e.configPath,
    baseConfig(`agents:
  worker: { url: "${worker.url}", id: "${id('agent/worker')}" }
policy:
  - { from: "${id('user/alice')}", to: [worker] }
`).replace('AUDIT', `${e.dir}/audit.log`),
  );
  await e.tg.reload();
}, 60_000);

afterAll(async () => {
  await alice?.close();
  await worker?.close(100);
  await e?.close();
});

describe('agent server: revocation of the gateway certificate', () => {
  it('refuses the gateway within the poll interval once its certificate serial is revoked', async () => {
    const first = await alice.fetch(`${e.proxyUrl}/a2a/worker/`, messageSend(1));
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    expect(served).toBe(1);

    const gatewayLeaf = new X509Certificate(pemBlocks(e.tg.gateway.credentials().certChainPem)[0]);
    await e.tg.gateway.authority.revokeSerial(normalizeSerial(gatewayLeaf.serialNumber), 'test');
    const t0 = Date.now();
    let last = { status: 0, text: '' };
    while (Date.now() - t0 < 5000) {
      const r = await alice.fetch(`${e.proxyUrl}/a2a/worker/`, messageSend(2));
      last = { status: r.status, text: await r.text() };
      if (last.status !== 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const took = Date.now() - t0;
    expect(last.status, last.text).toBe(403);
    expect(JSON.parse(last.text)).toMatchObject({ error: 'forbidden', reason: expect.stringMatching(/revoked/) });
    // within the poll interval (plus one round trip to the CA and scheduling slack)
    expect(took).toBeLessThan(POLL_MS + 1000);
    const servedAtRefusal = served;
    const again = await alice.fetch(`${e.proxyUrl}/a2a/worker/`, messageSend(3));
    expect(again.status).toBe(403);
    await again.arrayBuffer();
    expect(served).toBe(servedAtRefusal);
  });
});
