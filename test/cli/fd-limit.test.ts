/**
 * `tollgate serve` under `ulimit -n 256`, its control port flooded with 300 silent TLS connections (no
 * certificate, ALPN h2, nothing sent; each would hold a descriptor). The control listener's cap on
 * unauthenticated connections (connections.controlUnauthenticated, lowered to 1/8 of the open-file limit)
 * keeps the flood in its own budget: proxy calls still succeed while it lasts. Before the cap the flood
 * took every descriptor and the proxy could neither accept nor dial its upstream.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt, start, tollgate, type Running } from './run.js';
import { bootstrap } from '../../agent-bootstrap/index.js';
import { startStandInUpstream, handlers, type StandInUpstream } from '../fakes/upstream.js';
import { mtlsClient, type MtlsClient, messageSend } from '../fakes/mtls-client.js';

const TD = 'fdlimit.test';
const FILE_LIMIT = 256;
const FLOOD = 300;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-fdlimit-'));
const dataDir = path.join(work, 'data');
const config = path.join(work, 'tollgate.yaml');
const base = `trustDomain: ${TD}\nlisten: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }\n`;

let serve: Running | undefined;
let writer: StandInUpstream | undefined;
let alice: MtlsClient | undefined;
const flood: tls.TLSSocket[] = [];

afterAll(async () => {
  for (const s of flood) s.destroy();
  await alice?.close();
  await writer?.close();
  await serve?.stop('SIGTERM');
  fs.rmSync(work, { recursive: true, force: true });
});

async function waitForStderr(s: Running, re: RegExp, from: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!re.test(s.stderr().slice(from))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in:\n${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe(`serve under ulimit -n ${FILE_LIMIT}`, () => {
  it(`keeps serving proxy calls while ${FLOOD} silent TLS connections flood the control port`, async () => {
    ensureBuilt();
    fs.writeFileSync(config, base);
    serve = start(['serve', '--config', config, '--data-dir', dataDir], { fileLimit: FILE_LIMIT });
    const control = (await serve.waitFor(/control\s+(127\.0\.0\.1:\d+)/))[1];
    const proxy = (await serve.waitFor(/proxy\s+https:\/\/(127\.0\.0\.1:\d+)/))[1];
    const fingerprint = (await serve.waitFor(/root\s+(sha256:[0-9a-f]{64})/))[1];
    await serve.waitFor(/npm run demo.*\n/);

    const enroll = async (spiffeId: string) => {
      const r = tollgate(['token', 'create', '--spiffe-id', spiffeId, '--data-dir', dataDir, '--ttl', '5m']);
      expect(r.code, r.stderr).toBe(0);
      return bootstrap({ server: control, token: r.stdout.trim(), fingerprint });
    };
    const writerId = await enroll(`spiffe://${TD}/agent/writer`);
    const aliceId = await enroll(`spiffe://${TD}/user/alice`);
    writer = await startStandInUpstream({ ...writerId, handler: handlers.jsonRpcOk() });
    fs.writeFileSync(
      config,
      `${base}agents: { writer: { url: '${writer.url}', id: 'spiffe://${TD}/agent/writer' } }\npolicy: [{ from: 'spiffe://${TD}/user/alice', to: [writer] }]\n`,
    );
    const mark = serve.stderr().length;
    serve.child.kill('SIGHUP');
    await waitForStderr(serve, /SIGHUP: config reloaded/, mark);

    alice = mtlsClient(aliceId, aliceId.bundlePem);
    const call = async (rpcId: number) => {
      const r = await alice!.fetch(`https://${proxy}/a2a/writer/`, messageSend(rpcId));
      await r.arrayBuffer();
      return r.status;
    };
    expect(await call(1)).toBe(200);
    await alice.close(); // the calls below need new connections to the proxy: new descriptors
    alice = mtlsClient(aliceId, aliceId.bundlePem);

    // the flood: wait until the gateway has answered every connection (let it in, or closed it)
    const [host, port] = control.split(':');
    let secure = 0;
    const settled = new Set<tls.TLSSocket>();
    for (let i = 0; i < FLOOD; i++) {
      const s = tls.connect({ host, port: Number(port), ALPNProtocols: ['h2'], rejectUnauthorized: false });
      s.on('secureConnect', () => (secure++, settled.add(s)));
      s.on('error', () => undefined);
      s.on('close', () => settled.add(s));
      s.resume();
      flood.push(s);
    }
    const deadline = Date.now() + 10_000;
    while (settled.size < FLOOD && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(settled.size).toBe(FLOOD);

    // while the admitted flood connections are still open: the proxy accepts, dials the upstream, answers
    expect(flood.filter((s) => !s.destroyed).length).toBeGreaterThan(0);
    for (let i = 2; i < 5; i++) expect(await call(i)).toBe(200);
    expect(serve.child.exitCode).toBeNull();
    // the cap: 1/8 of the open-file limit (the configured default, 128, is above it): newer connections
    // evicted older ones, so at most that many are open at once
    expect(secure).toBeGreaterThan(0);
    expect(flood.filter((s) => !s.destroyed).length).toBeLessThanOrEqual(FILE_LIMIT / 8);
  }, 90_000);
});
