import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { base64url, createLocalJWKSet, decodeProtectedHeader, exportJWK, FlattenedSign, flattenedVerify, generateKeyPair, type JSONWebKeySet } from 'jose';
import canonicalize from 'canonicalize';
import { verifyAgentCardSignature, type AgentCard, type AgentCardSignatureGenerator } from '@a2a-js/sdk';
import { startHarness, get, post, type Harness } from './harness.js';
import { startA2aAgent, type RunningAgent } from '../fakes/a2a-agent.js';
import { mtlsClient, type MtlsClient } from '../fakes/mtls-client.js';
import { startProxy, createMetrics, CARD_SIGNING_PURPOSE, type ProxyHandle } from '../../proxy/index.js';
import { openAuthority } from '../../ca/authority.js';

/**
 * The gateway re-signs every card it serves (public card, directory, extended card on all its paths) and
 * publishes its key set; a client verifies with `jose` alone, computing the payload the spec describes
 * (8.4: drop `signatures`, drop empty values, RFC 8785) with the `canonicalize` package: nothing of
 * Tollgate's is used on the verifying side. The SDK's own verifier is tried on the v1.0 card as well.
 */
const TD = 'example.org';
const WRITER = `spiffe://${TD}/agent/writer`;
const OTHER = `spiffe://${TD}/agent/other`;
const FORGER = `spiffe://${TD}/agent/forger`;
const SNAKE = `spiffe://${TD}/agent/echo`;

type Obj = Record<string, any>;

/** the spec's "remove properties with default values": null, "", [] and {} (after their contents) */
function dropEmpty(v: unknown): unknown {
  if (v === null || v === undefined || v === '') return undefined;
  if (Array.isArray(v)) {
    const a = v.map(dropEmpty).filter((x) => x !== undefined);
    return a.length ? a : undefined;
  }
  if (typeof v === 'object') {
    const o = Object.fromEntries(
      Object.entries(v)
        .map(([k, x]) => [k, dropEmpty(x)] as const)
        .filter(([, x]) => x !== undefined),
    );
    return Object.keys(o).length ? o : undefined;
  }
  return v;
}

function payloadOf(card: object): Uint8Array {
  const { signatures: _drop, ...rest } = card as Obj;
  return new TextEncoder().encode(canonicalize(dropEmpty(rest) ?? {}));
}

/** jose, the key set and the spec's payload: throws unless one of the card's signatures verifies */
async function joseVerify(card: Obj, jwks: JSONWebKeySet): Promise<void> {
  const sig = card.signatures?.[0];
  if (!sig) throw new Error('the card carries no signature');
  await flattenedVerify({ payload: base64url.encode(payloadOf(card)), protected: sig.protected, signature: sig.signature }, createLocalJWKSet(jwks));
}

/** An agent-side signer written with jose: ES256 over the spec payload, `jku` as given. */
async function agentSigner(jku: (base: string) => string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'agent-key-1', alg: 'ES256' };
  const make =
    (tamper = false) =>
    (base: string): AgentCardSignatureGenerator =>
    async (card: AgentCard) => {
      const jws = await new FlattenedSign(payloadOf(card)).setProtectedHeader({ alg: 'ES256', typ: 'JOSE', kid: jwk.kid, jku: jku(base) }).sign(privateKey);
      // a tampered card: signed, then changed
      return {
        ...card,
        description: tamper ? 'changed after signing' : card.description,
        signatures: [{ protected: jws.protected!, signature: jws.signature, header: undefined }],
      };
    };
  return { jwks: { keys: [jwk] }, sign: make(false), tampered: make(true) };
}

const EXTRA_SKILL = {
  id: 'secret',
  name: 'Secret',
  description: 'only for authenticated callers',
  tags: ['x'],
  examples: [],
  inputModes: [],
  outputModes: [],
  securityRequirements: [],
};

const SNAKE_CARD = (base: string) => ({
  name: 'snake',
  description: 'a card in proto field names',
  version: '1',
  supported_interfaces: [
    { url: `${base}/rpc`, protocol_binding: 'JSONRPC', protocol_version: '1.0' },
    { url: 'agent.internal:50051', protocol_binding: 'GRPC', protocol_version: '1.0' },
  ],
  default_input_modes: ['text'],
  default_output_modes: ['text'],
  security_schemes: { bearer: { http_auth_security_scheme: { scheme: 'Bearer' } } },
  security_requirements: [{ schemes: { bearer: { list: ['read'] } } }],
  capabilities: { streaming: false },
  skills: [{ id: 's', name: 's', description: 's', tags: ['t'] }],
});

describe('signed agent cards: the gateway re-signs what it rewrites', () => {
  let h: Harness;
  let writer: RunningAgent;
  let other: RunningAgent;
  let forger: RunningAgent;
  let c: MtlsClient;
  let jwks: JSONWebKeySet;

  beforeAll(async () => {
    h = await startHarness();
    const signer = await agentSigner((base) => `${base}/.well-known/jwks.json`);
    const elsewhere = await agentSigner(() => 'https://keys.example.com/jwks.json');
    const ids = await Promise.all([WRITER, OTHER, FORGER].map((id) => h.td.issue(id, { ips: ['127.0.0.1'] })));
    const start = (name: string, i: number, signCard: (base: string) => AgentCardSignatureGenerator, keys: object) =>
      startA2aAgent({
        name,
        keyPem: ids[i].keyPem,
        certChainPem: ids[i].certChainPem,
        bundlePem: h.td.bundlePem,
        signCard,
        jwks: keys,
        extendedSkills: [EXTRA_SKILL],
      });
    writer = await start('writer', 0, signer.sign, signer.jwks);
    other = await start('other', 1, elsewhere.sign, elsewhere.jwks);
    forger = await start('forger', 2, signer.tampered, signer.jwks);
    h.upstream.setHandler((req, res) => {
      const base = h.upstream.url;
      const body =
        req.method === 'GET' ? JSON.stringify(SNAKE_CARD(base)) : JSON.stringify({ jsonrpc: '2.0', id: JSON.parse(req.body).id, result: SNAKE_CARD(base) });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    h.gw.reloadConfig(
      h.config({
        agents: {
          echo: { url: h.upstream.url, id: SNAKE },
          writer: { url: writer.url, id: WRITER },
          other: { url: other.url, id: OTHER },
          forger: { url: forger.url, id: FORGER },
        },
        policy: [{ from: `spiffe://${TD}/agent/alice`, to: ['echo', 'writer', 'other', 'forger'] }],
      }),
    );
    c = h.client(h.alice);
    const keys = await get(c, `${h.base}/.well-known/jwks.json`);
    expect(keys.status).toBe(200);
    expect(keys.headers.get('content-type')).toBe('application/jwk-set+json');
    jwks = keys.json;
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all([writer, other, forger].map((a) => a?.close()));
  });

  it('v1.0 card: URLs to the gateway, one gateway signature that jose verifies with the published key set alone', async () => {
    const r = await get(c, `${h.base}/a2a/writer/.well-known/agent-card.json`, { 'a2a-version': '1.0' });
    expect(r.status).toBe(200);
    const card = r.json;
    const http = card.supportedInterfaces.filter((i: Obj) => i.protocolBinding !== 'GRPC');
    expect(http.length).toBeGreaterThan(0);
    for (const i of http) expect(i.url.startsWith(`${h.base}/a2a/writer/a2a/`)).toBe(true);
    expect(card.signatures).toHaveLength(1);
    const header = decodeProtectedHeader(card.signatures[0]);
    expect(header).toMatchObject({
      alg: 'EdDSA',
      typ: 'JOSE',
      jku: `${h.base}/.well-known/jwks.json`,
      tollgate_agent: WRITER,
      tollgate_upstream_signature: 'verified',
    });
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    // the key set is where the header says (jku), and it alone verifies the card
    expect((await get(c, header.jku!)).json).toEqual(jwks);
    await joseVerify(card, jwks);
    // the SDK's own verifier (its canonical form) agrees
    const keyOf = (kid: string) => Promise.resolve(jwks.keys.find((k) => k.kid === kid)!);
    await verifyAgentCardSignature(keyOf)(card);

    const tampered = structuredClone(card);
    tampered.supportedInterfaces[0].url = 'https://evil.example/a2a';
    await expect(joseVerify(tampered, jwks)).rejects.toThrow(/signature verification failed/);
    const quiet = vi.spyOn(console, 'debug').mockImplementation(() => undefined); // the SDK logs each failed entry
    await expect(verifyAgentCardSignature(keyOf)(tampered)).rejects.toThrow();
    quiet.mockRestore();
  });

  it('v0.3 card and the directory: rewritten and verifiable', async () => {
    const legacy = (await get(c, `${h.base}/a2a/writer/.well-known/agent-card.json`)).json;
    expect(legacy.url).toBe(`${h.base}/a2a/writer/a2a/jsonrpc`);
    await joseVerify(legacy, jwks);
    // the SDK's v0.3 card is a translation carrying the v1.0 card's signatures: served, but not as verified
    expect(decodeProtectedHeader(legacy.signatures[0]).tollgate_upstream_signature).toBe('unverified');
    const dir = await get(c, `${h.base}/a2a`, { 'a2a-version': '1.0' });
    const cards = dir.json.agents.filter((a: Obj) => a.card).map((a: Obj) => a.card);
    expect(cards.length).toBeGreaterThanOrEqual(3);
    for (const card of cards) await joseVerify(card, jwks);
  });

  it("the agent's own signature: verified from its own key set, unverifiable elsewhere (said so), invalid refused", async () => {
    const o = await get(c, `${h.base}/a2a/other/.well-known/agent-card.json`, { 'a2a-version': '1.0' });
    expect(o.status).toBe(200);
    expect(decodeProtectedHeader(o.json.signatures[0]).tollgate_upstream_signature).toBe('unverified');
    await joseVerify(o.json, jwks);

    const f = await get(c, `${h.base}/a2a/forger/.well-known/agent-card.json`, { 'a2a-version': '1.0' });
    expect(f.status).toBe(502);
    expect(f.json.error.data.reason).toBe('card_signature_invalid');
    const fx = await post(c, `${h.base}/a2a/forger/a2a/jsonrpc`, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'GetExtendedAgentCard', params: {} }), {
      'a2a-version': '1.0',
    });
    expect(fx.status).toBe(502);
    expect(fx.json).toMatchObject({ id: 7, error: { data: { reason: 'card_signature_invalid' } } });
  });

  it('the extended card on each of its paths: rewritten, signed, verifiable', async () => {
    const rpc = (method: string, version?: string) =>
      post(c, `${h.base}/a2a/writer/a2a/jsonrpc`, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: {} }), version ? { 'a2a-version': version } : {});
    const answers: [string, Obj, string][] = [
      ['v1.0 JSON-RPC GetExtendedAgentCard', (await rpc('GetExtendedAgentCard', '1.0')).json.result, 'verified'],
      ['v0.3 JSON-RPC agent/getAuthenticatedExtendedCard', (await rpc('agent/getAuthenticatedExtendedCard')).json.result, 'unverified'],
      ['REST GET /extendedAgentCard', (await get(c, `${h.base}/a2a/writer/a2a/rest/extendedAgentCard`, { 'a2a-version': '1.0' })).json, 'verified'],
      [
        'REST GET /{tenant}/extendedAgentCard',
        (await get(c, `${h.base}/a2a/writer/a2a/rest/acme/extendedAgentCard`, { 'a2a-version': '1.0' })).json,
        'verified',
      ],
      ['v0.3 REST GET /v1/card', (await get(c, `${h.base}/a2a/writer/a2a/rest/v1/card`)).json, 'unverified'],
    ];
    for (const [what, card, upstream] of answers) {
      expect(
        card?.skills?.map((s: Obj) => s.id),
        what,
      ).toContain('secret');
      const urls: string[] = [
        ...(card.url ? [card.url] : []),
        ...(card.supportedInterfaces ?? card.additionalInterfaces ?? [])
          .filter((i: Obj) => (i.protocolBinding ?? i.transport) !== 'GRPC')
          .map((i: Obj) => i.url),
      ];
      expect(urls.length, what).toBeGreaterThan(0);
      for (const u of urls) expect(u.startsWith(`${h.base}/a2a/writer/`), `${what}: ${u}`).toBe(true);
      expect(decodeProtectedHeader(card.signatures[0]), what).toMatchObject({ tollgate_agent: WRITER, tollgate_upstream_signature: upstream });
      await joseVerify(card, jwks);
    }
  });

  it('a snake_case card (public and extended): rewritten in its own spelling, gRPC dropped (no gRPC upstream), verifiable', async () => {
    const r = await get(c, `${h.base}/a2a/echo/.well-known/agent-card.json`, { 'a2a-version': '1.0' });
    expect(r.status).toBe(200);
    const x = await post(c, `${h.base}/a2a/echo/rpc`, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'GetExtendedAgentCard' }));
    for (const card of [r.json, x.json.result]) {
      // the agent has no gRPC upstream in the registry: a signed card never points around the gateway
      expect(card.supported_interfaces).toEqual([{ url: `${h.base}/a2a/echo/rpc`, protocol_binding: 'JSONRPC', protocol_version: '1.0' }]);
      expect(card.security_schemes.tollgateMtls).toEqual({ mtls_security_scheme: { description: expect.any(String) } });
      expect(card.security_requirements).toEqual([{ schemes: { bearer: { list: ['read'] }, tollgateMtls: { list: [] } } }]);
      expect(card.securitySchemes).toBeUndefined();
      expect(decodeProtectedHeader(card.signatures[0]).tollgate_upstream_signature).toBe('none');
      await joseVerify(card, jwks);
    }
  });
});

describe('signed agent cards: a fleet signs with one key', () => {
  it('two gateways sharing one CA root serve cards that one published key set verifies', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-cards-'));
    const h = await startHarness();
    const extra: ProxyHandle[] = [];
    // two authorities over the same root (as two replicas holding the fleet's root-ca.pem)
    const a = await openAuthority({ dataDir: dir, trustDomain: TD });
    const b = await openAuthority({ dataDir: dir, trustDomain: TD });
    try {
      expect(b.rootFingerprint()).toBe(a.rootFingerprint());
      for (const ca of [a, b])
        extra.push(
          await startProxy({
            config: h.config(),
            credentials: () => h.creds,
            revocation: { isRevoked: () => false },
            metrics: createMetrics({ processMetrics: false }),
            cardSigning: { seed: ca.deriveSecret(CARD_SIGNING_PURPOSE) },
          }),
        );
      h.upstream.setHandler((_req, res) => {
        const body = JSON.stringify(SNAKE_CARD(h.upstream.url));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      });
      const client = mtlsClient(h.alice, h.td.bundlePem);
      const [g1, g2] = extra.map((g) => `https://127.0.0.1:${g.port}`);
      const keys = (await get(client, `${g1}/.well-known/jwks.json`)).json;
      expect((await get(client, `${g2}/.well-known/jwks.json`)).json).toEqual(keys);
      for (const g of [g1, g2]) {
        const card = (await get(client, `${g}/a2a/echo/.well-known/agent-card.json`)).json;
        expect(card.supported_interfaces[0].url).toBe(`${g}/a2a/echo/rpc`);
        await joseVerify(card, keys);
      }
      // a gateway of another root (the harness's: a random key) is not verified by that key set
      const foreign = (await get(client, `${h.base}/a2a/echo/.well-known/agent-card.json`)).json;
      await expect(joseVerify(foreign, keys)).rejects.toThrow();
      await client.agent.destroy();
    } finally {
      await Promise.all(extra.map((g) => g.close(100)));
      await a.close();
      await b.close();
      await h.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
