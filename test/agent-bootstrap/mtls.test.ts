/**
 * createAgentServer + createMtlsFetch over real TLS sockets with certificates signed from real CSRs.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import tls from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { Client } from 'undici';
import { openTestCa, type TestCa } from '../control/harness.js';
import { createAgentServer, createMtlsFetch, peerOf, currentDelegation, callerMatcher, type AgentServer, type MtlsFetch } from '../../agent-bootstrap/index.js';
import type { AgentIdentity } from '../../agent-bootstrap/identity.js';
import { gatewayIdentity, localIdentity } from './helpers.js';

import { id } from '../control/harness.js';

let testCa: TestCa;
let ca: TestCa['ca'];
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

beforeAll(async () => {
  testCa = await openTestCa();
  ca = testCa.ca;
});
afterAll(() => testCa.close());

async function serverFor(
  identity: AgentIdentity,
  allowedCallers: string[],
  handler?: (req: IncomingMessage, res: ServerResponse) => unknown,
): Promise<AgentServer> {
  const s = await createAgentServer(
    handler ??
      ((req, res) => {
        const peer = peerOf(req);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ caller: peer?.id.uri, serial: peer?.serial, port: req.socket.remotePort }));
      }),
    identity,
    { allowedCallers },
  );
  cleanups.push(() => s.close());
  return s;
}

/** Agent SVIDs carry no DNS/IP SAN: callers verify an agent server by its SPIFFE ID. */
function fetchFor(
  identity: AgentIdentity,
  opts: Parameters<typeof createMtlsFetch>[1] = { expectedServerId: [id('agent/writer'), id('agent/researcher')] },
): MtlsFetch {
  const f = createMtlsFetch(identity, opts);
  cleanups.push(() => f.close());
  return f;
}

/** Serial of the certificate a fresh TLS connection to `port` is shown. */
function serverSerialOnNewConnection(port: number, client: AgentIdentity): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { host: '127.0.0.1', port, key: client.keyPem, cert: client.certChainPem, ca: client.bundlePem, checkServerIdentity: () => undefined },
      () => {
        const serial = s.getPeerCertificate().serialNumber.toLowerCase().replace(/^0+/, '');
        s.destroy();
        resolve(serial);
      },
    );
    s.on('error', reject);
  });
}

describe('callerMatcher', () => {
  it('matches exact IDs and /* prefixes only on segment boundaries', () => {
    const m = callerMatcher([id('tollgate/gateway'), id('agent/*')]);
    expect(m(id('tollgate/gateway'))).toBe(true);
    expect(m(id('agent/writer'))).toBe(true);
    expect(m(id('agent/team/writer'))).toBe(true);
    expect(m(id('agentx/writer'))).toBe(false);
    expect(m(id('tollgate/gateway2'))).toBe(false);
    expect(() => callerMatcher([])).toThrow(/empty/);
    expect(() => callerMatcher(['not-an-id'])).toThrow(/allowedCallers/);
  });
});

describe('createAgentServer + createMtlsFetch', () => {
  it('lets an allowed caller through and refuses one not in allowedCallers with 403', async () => {
    const agent = await localIdentity(ca, id('agent/writer'));
    const gateway = await localIdentity(ca, id('agent/caller'));
    const intruder = await localIdentity(ca, id('agent/researcher'));
    const srv = await serverFor(agent, [id('agent/caller')]);

    const ok = await fetchFor(gateway)(`${srv.url}/x`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { caller: string }).caller).toBe(id('agent/caller'));

    const denied = await fetchFor(intruder)(`${srv.url}/x`);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { reason: string }).reason).toContain(`caller ${id('agent/researcher')} is not allowed`);
  });

  it('works as an express app handler', async () => {
    const agent = await localIdentity(ca, id('agent/writer'));
    const gateway = await localIdentity(ca, id('agent/caller'));
    const app = express();
    app.get('/hello', (req, res) => {
      res.json({ caller: peerOf(req)?.id.uri });
    });
    const srv = await serverFor(agent, [id('agent/*')], app);
    const res = await fetchFor(gateway)(`${srv.url}/hello`);
    expect(await res.json()).toEqual({ caller: id('agent/caller') });
  });

  it('refuses a server whose SPIFFE ID is not the expected one, and accepts the expected one', async () => {
    const agent = await localIdentity(ca, id('agent/writer'));
    const caller = await localIdentity(ca, id('agent/caller'));
    const srv = await serverFor(agent, [id('agent/caller')]);
    const wrong = fetchFor(caller, { expectedServerId: id('agent/other') });
    await expect(wrong(`${srv.url}/`)).rejects.toThrow();
    const right = fetchFor(caller, { expectedServerId: id('agent/writer') });
    expect((await right(`${srv.url}/`)).status).toBe(200);
  });

  it('rotating the server keeps an open keep-alive connection working; new connections see the new certificate', async () => {
    const agent = await localIdentity(ca, id('agent/writer'));
    const caller = await localIdentity(ca, id('agent/caller'));
    const srv = await serverFor(agent, [id('agent/caller')]);
    // A client with fixed material and one keep-alive connection.
    const client = new Client(srv.url, {
      connect: { key: caller.keyPem, cert: caller.certChainPem, ca: caller.bundlePem, checkServerIdentity: () => undefined },
      pipelining: 1,
    });
    cleanups.push(() => client.close());
    const first = (await (await client.request({ path: '/', method: 'GET' })).body.json()) as { port: number };

    const before = agent.serial;
    await agent.renewNow();
    expect(agent.serial).not.toBe(before);

    const second = (await (await client.request({ path: '/', method: 'GET' })).body.json()) as { port: number };
    expect(second.port).toBe(first.port); // same TCP connection, still served
    expect(await serverSerialOnNewConnection(srv.port, caller)).toBe(agent.serial);
  });

  it('rotating the client: in-flight calls finish on the old pool, new calls present the new certificate', async () => {
    const agent = await localIdentity(ca, id('agent/writer'));
    const caller = await localIdentity(ca, id('agent/caller'));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const slowArrived = new Promise<void>((r) => (arrived = r));
    const srv = await serverFor(agent, [id('agent/caller')], async (req, res) => {
      if (req.url === '/slow') {
        arrived();
        await gate;
      }
      res.end(JSON.stringify({ serial: peerOf(req)?.serial }));
    });
    const f = fetchFor(caller);
    const s1 = ((await (await f(`${srv.url}/`)).json()) as { serial: string }).serial;
    expect(s1).toBe(caller.serial);

    const slow = f(`${srv.url}/slow`);
    await slowArrived; // the slow request is on the server, in flight on the old pool
    await caller.renewNow();
    const s2 = ((await (await f(`${srv.url}/`)).json()) as { serial: string }).serial;
    expect(s2).toBe(caller.serial);
    expect(s2).not.toBe(s1);
    release();
    const slowRes = await slow;
    expect(slowRes.status).toBe(200);
    expect(((await slowRes.json()) as { serial: string }).serial).toBe(s1);
  });

  it('attaches the inbound delegation context to outbound calls made inside the handler, never over an explicit header', async () => {
    const seen: Record<string, string | undefined>[] = [];
    const callee = await localIdentity(ca, id('agent/researcher'));
    const middle = await localIdentity(ca, id('agent/writer'));
    const gateway = await gatewayIdentity(ca);
    const calleeSrv = await serverFor(callee, [id('agent/writer')], (req, res) => {
      seen.push({ delegation: req.headers['tollgate-delegation'] as string | undefined, traceparent: req.headers.traceparent as string | undefined });
      res.end('{}');
    });
    const middleFetch = fetchFor(middle);
    const middleSrv = await serverFor(middle, [id('tollgate/gateway')], async (req, res) => {
      expect(currentDelegation()?.delegation).toBe('signed-ctx-1');
      await middleFetch(`${calleeSrv.url}/a`, { method: 'POST', body: '{}' });
      await middleFetch(`${calleeSrv.url}/b`, { headers: { 'tollgate-delegation': 'explicit' } });
      res.end('{}');
    });
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const xfcc = `By=${id('tollgate/gateway')};URI=${id('user/alice')}`;
    const res = await fetchFor(gateway)(`${middleSrv.url}/`, {
      headers: { 'x-forwarded-client-cert': xfcc, 'tollgate-delegation': 'signed-ctx-1', traceparent: tp },
    });
    expect(res.status).toBe(200);
    // Outside any handler nothing is attached.
    await middleFetch(`${calleeSrv.url}/c`);
    expect(seen).toEqual([
      { delegation: 'signed-ctx-1', traceparent: tp },
      { delegation: 'explicit', traceparent: tp },
      { delegation: undefined, traceparent: undefined },
    ]);
  });
});
