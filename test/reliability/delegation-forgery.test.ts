import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2e, baseConfig, id, type E2e } from '../e2e/harness.js';
import { startStandInUpstream, handlers, type StandInUpstream } from '../fakes/upstream.js';
import { mtlsClient, type MtlsClient } from '../fakes/mtls-client.js';
import { bootstrap } from '../../agent-bootstrap/index.js';
import { parseConfig } from '../../config/load.js';
import { tollgate } from '../cli/run.js';
import type { SvidMaterial } from '../../agent-bootstrap/material.js';
import { RPC } from './helpers.js';
import { post } from '../proxy/harness.js';

/**
 * Red team against the whole gateway as `tollgate serve` composes it (in-process, real CA, real delegation
 * stage): delegation-context forgery, then the identity plane's known gaps.
 *
 * alice -> writer hands the writer a signed context (holder: writer). Every forgery below is sent to the
 * researcher with that context bent; the researcher must never see one of them.
 */
let e: E2e;
let writer: StandInUpstream;
let researcher: StandInUpstream;
let alice: MtlsClient;
let asWriter: MtlsClient;
let aliceId: SvidMaterial;
let ctx: string;
const TTL_MS = 2_000;
let ctxIssuedAt = 0;

function call(c: MtlsClient, agent: string, headers: Record<string, string> = {}, n = 1) {
  return post(c, `${e.proxyUrl}/a2a/${agent}/`, RPC(n), headers);
}

beforeAll(async () => {
  e = await startE2e(baseConfig(`delegation: { tokenTtl: ${TTL_MS}ms }`));
  const writerId = await e.enroll(id('agent/writer'));
  const researcherId = await e.enroll(id('agent/researcher'));
  aliceId = await e.enroll(id('user/alice'));
  writer = await startStandInUpstream({ ...writerId, handler: handlers.jsonRpcOk() });
  researcher = await startStandInUpstream({ ...researcherId, handler: handlers.jsonRpcOk() });
  fs.writeFileSync(
    e.configPath,
    baseConfig(`delegation: { tokenTtl: ${TTL_MS}ms }
agents:
  writer: { url: "${writer.url}", id: "${id('agent/writer')}" }
  researcher: { url: "${researcher.url}", id: "${id('agent/researcher')}" }
policy:
  - { from: "${id('user/alice')}", to: [writer, researcher] }
  - { from: "${id('agent/writer')}", to: [researcher] }
`).replace('AUDIT', path.join(e.dir, 'audit.log')),
  );
  await e.tg.reload();
  alice = mtlsClient(aliceId, aliceId.bundlePem);
  asWriter = mtlsClient(writerId, writerId.bundlePem);
  ctxIssuedAt = Date.now();
  expect((await call(alice, 'writer')).status).toBe(200);
  ctx = String(writer.requests[0].headers['tollgate-delegation']);
  expect(ctx).toMatch(/^v2\./);
}, 60_000);

afterAll(async () => {
  await alice?.close();
  await asWriter?.close();
  await writer?.close();
  await researcher?.close();
  await e?.close();
});

const dots = (t: string) => {
  const a = t.indexOf('.');
  const b = t.indexOf('.', a + 1);
  const c = t.lastIndexOf('.');
  return { kid: t.slice(a + 1, b), payload: t.slice(b + 1, c), mac: t.slice(c + 1) };
};
const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

const forgeries: [name: string, who: 'writer' | 'alice', make: (t: string) => string, statuses: number[]][] = [
  ['one payload character changed', 'writer', (t) => flip(t, t.indexOf('.', 3) + 3), [403]],
  ['the chain rewritten to drop alice', 'writer', (t) => t.replace('/user/alice', '/user/bobby'), [403]],
  ['one MAC character changed', 'writer', (t) => flip(t, t.length - 5), [403]],
  ['the MAC removed', 'writer', (t) => t.slice(0, t.lastIndexOf('.')), [400, 403]],
  ['truncated by 10 characters', 'writer', (t) => t.slice(0, -10), [400, 403]],
  ['truncated to its first half', 'writer', (t) => t.slice(0, t.length >> 1), [400, 403]],
  ['an unknown key id', 'writer', (t) => t.replace(`.${dots(t).kid}.`, '.zz9unknown.'), [403]],
  ['version v1 instead of v2', 'writer', (t) => 'v1' + t.slice(2), [400, 403]],
  ['garbage', 'writer', () => 'hello', [400]],
  ['16 KB of padding', 'writer', (t) => t + 'A'.repeat(17_000), [400, 403, 431]],
  ["another holder's context (alice replays the writer's)", 'alice', (t) => t, [403]],
  ['two contexts at once', 'writer', (t) => `${t}, ${t}`, [400, 403]],
];

describe('red team: delegation-context forgery', () => {
  it("control: the rightful holder's context is accepted, and the callee gets a new one, never the same text", async () => {
    const r = await call(asWriter, 'researcher', { 'tollgate-delegation': ctx });
    expect(r.status).toBe(200);
    const got = String(researcher.requests[0].headers['tollgate-delegation']);
    expect(got).toMatch(/^v2\./);
    expect(got).not.toBe(ctx);
    expect(Date.now() - ctxIssuedAt).toBeLessThan(TTL_MS); // the expiry case below relies on it
    researcher.requests.length = 0;
  });

  it.each(forgeries)('%s: refused, the callee never sees it', async (_name, who, make, statuses) => {
    const r = await call(who === 'alice' ? alice : asWriter, 'researcher', { 'tollgate-delegation': make(ctx) });
    expect(statuses, JSON.stringify(r.json)).toContain(r.status);
    if (r.status !== 431) expect(r.json?.error?.code).toBeLessThanOrEqual(-32100); // 431: Node's header limit answered first
    expect(researcher.requests).toHaveLength(0);
  });

  it('an expired context (past delegation.tokenTtl) is refused with 403 context_expired', async () => {
    await new Promise((r) => setTimeout(r, Math.max(0, ctxIssuedAt + TTL_MS + 300 - Date.now())));
    const r = await call(asWriter, 'researcher', { 'tollgate-delegation': ctx });
    expect(r.status).toBe(403);
    expect(r.json.error.data.reason).toBe('context_expired');
    expect(researcher.requests).toHaveLength(0);
  });
});

describe('red team: identity plane', () => {
  it("an agent cannot obtain an SVID in the gateway's own namespace (spiffe://<td>/tollgate/gateway)", async () => {
    const attempt = async () => {
      const { token } = await e.tg.gateway.authority.createJoinToken(id('tollgate/gateway'));
      return bootstrap({ server: e.control, token, fingerprint: e.tg.gateway.authority.rootFingerprint() });
    };
    await expect(attempt()).rejects.toThrow();
  });

  it('an upper-case trust domain in the config or a token request is refused, never folded into another identity', async () => {
    await expect(e.tg.gateway.authority.createJoinToken('spiffe://E2E.TEST/agent/upper')).rejects.toThrow(/upper-case/);
    expect(() => parseConfig({ trustDomain: 'E2E.Test' })).toThrow(/upper-case|lower case/);
  });

  const HAS_SQLITE3 = spawnSync('sqlite3', ['-version']).status === 0;
  if (!HAS_SQLITE3) it.skip('an outside sqlite3 read of the live DB (skipped: no sqlite3 binary on PATH)', () => {});
  else
    it('an outside sqlite3 read of the live DB does not stop the gateway redeeming a CLI-made token', async () => {
      const db = path.join(e.dir, 'data', 'tollgate.db');
      const q = spawnSync('sqlite3', [db, 'select count(*) from tokens;'], { encoding: 'utf8', timeout: 10_000 });
      expect(q.status, q.stderr).toBe(0);
      const t = tollgate(['token', 'create', '--spiffe-id', id('agent/outsider'), '--data-dir', path.join(e.dir, 'data'), '--config', e.configPath]);
      expect(t.code, t.stderr).toBe(0);
      const m = await bootstrap({ server: e.control, token: t.stdout.trim(), fingerprint: e.tg.gateway.authority.rootFingerprint() });
      expect(m.spiffeId).toBe(id('agent/outsider'));
    });

  it('a revoked callee (upstream) identity is refused: the call is not forwarded to it', async () => {
    expect((await call(alice, 'researcher', {}, 50)).status).toBe(200); // a pooled connection to it is open
    researcher.requests.length = 0;
    await e.tg.gateway.authority.revokeIdentity(id('agent/researcher'), 'red team');
    await new Promise((r) => setTimeout(r, 1_200)); // the proxy picks revocations up within a second
    const r = await call(alice, 'researcher', {}, 51);
    expect(r.status).toBe(502);
    expect(researcher.requests).toHaveLength(0);
  });
});

describe('red team: the data dir goes away', () => {
  it('deleting tollgate.db under a running gateway is noticed: issuance fails clearly or the DB is recreated', async () => {
    const d = await startE2e(baseConfig());
    try {
      const db = path.join(d.dir, 'data', 'tollgate.db');
      for (const f of [db, `${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true });
      let threw = false;
      try {
        await d.tg.gateway.authority.createJoinToken(id('agent/after-delete'));
      } catch {
        threw = true;
      }
      expect(threw || fs.existsSync(db)).toBe(true);
    } finally {
      await d.close();
    }
  });
});
