import { describe, expect, it } from 'vitest';
import { compilePolicy, decideAuthorize, mayDiscover } from '../../proxy/policy.js';
import { canonicalMethod, parseJsonRpc, methodFromRest } from '../../proxy/a2a/methods.js';
import { decideRoute, upstreamPath, checkPath } from '../../proxy/stages/route.js';
import { Limiter } from '../../proxy/ratelimit/limiter.js';
import { rewriteCard, rewriteEndpoint } from '../../proxy/a2a/card.js';
import { cardPayload } from '../../proxy/a2a/card-signing.js';
import { canonicalizeAgentCard, type AgentCard } from '@a2a-js/sdk';
import { upstreamRequestHeaders, callerResponseHeaders } from '../../proxy/headers.js';
import { parseConfig } from '../../config/load.js';
import { ProxyError } from '../../proxy/errors.js';
import { FakeClock } from '../fakes/clock.js';

const cfg = parseConfig({
  trustDomain: 'example.org',
  agents: {
    a: { url: 'https://127.0.0.1:1', id: 'spiffe://example.org/agent/a' },
    b: { url: 'https://127.0.0.1:2', id: 'spiffe://example.org/agent/b' },
  },
  policy: [
    { from: 'spiffe://example.org/user/*', to: ['a'] },
    { from: 'spiffe://example.org/agent/a', to: ['b'], methods: ['message/send', 'GetTask'] },
    { from: ['spiffe://example.org/agent/a'], to: '*', methods: ['tasks/cancel'] },
  ],
});

describe('policy', () => {
  const p = compilePolicy(cfg.policy, Object.keys(cfg.agents));
  it('default deny', () => {
    expect(decideAuthorize(p.grantsFor('spiffe://example.org/agent/zed'), 'a', 'SendMessage')).toEqual({ allow: false, reason: 'no_rule' });
    expect(p.grantsFor('spiffe://example.org/agent/zed').known).toBe(false);
  });
  it('prefix patterns match strictly under the path', () => {
    expect(decideAuthorize(p.grantsFor('spiffe://example.org/user/ann'), 'a', 'SendMessage').allow).toBe(true);
    expect(decideAuthorize(p.grantsFor('spiffe://example.org/user/ann/x'), 'a', 'GetTask').allow).toBe(true);
    expect(decideAuthorize(p.grantsFor('spiffe://example.org/user'), 'a', 'SendMessage').allow).toBe(false);
    expect(decideAuthorize(p.grantsFor('spiffe://example.org/username'), 'a', 'SendMessage').allow).toBe(false);
    expect(decideAuthorize(p.grantsFor('spiffe://example.org/user/ann'), 'b', 'SendMessage').allow).toBe(false);
  });
  it('methods: v0.3 and v1.0 names match each other; rules union', () => {
    const g = p.grantsFor('spiffe://example.org/agent/a');
    expect(decideAuthorize(g, 'b', 'SendMessage').allow).toBe(true);
    expect(decideAuthorize(g, 'b', canonicalMethod('tasks/get')!).allow).toBe(true);
    expect(decideAuthorize(g, 'b', 'CancelTask').allow).toBe(true); // from the to:'*' rule
    expect(decideAuthorize(g, 'a', 'CancelTask').allow).toBe(true);
    expect(decideAuthorize(g, 'a', 'SendMessage')).toEqual({ allow: false, reason: 'method_not_allowed' });
    expect(decideAuthorize(g, 'b', 'unknown')).toEqual({ allow: false, reason: 'not_a2a' });
    expect(mayDiscover(g, 'a')).toBe(true);
  });
  it('refuses an unknown method name in config', () => {
    expect(() => compilePolicy([{ from: 'spiffe://example.org/x', to: '*', methods: ['message/sned'] }], ['a'])).toThrow(ProxyError);
  });
});

describe('A2A method extraction', () => {
  it('JSON-RPC v0.3 and v1.0 names -> one canonical name', () => {
    const cases: [string, string][] = [
      ['message/send', 'SendMessage'],
      ['SendMessage', 'SendMessage'],
      ['message/stream', 'SendStreamingMessage'],
      ['SendStreamingMessage', 'SendStreamingMessage'],
      ['tasks/get', 'GetTask'],
      ['tasks/cancel', 'CancelTask'],
      ['tasks/resubscribe', 'SubscribeToTask'],
      ['SubscribeToTask', 'SubscribeToTask'],
      ['tasks/pushNotificationConfig/set', 'CreateTaskPushNotificationConfig'],
      ['tasks/pushNotificationConfig/list', 'ListTaskPushNotificationConfigs'],
      ['agent/getAuthenticatedExtendedCard', 'GetExtendedAgentCard'],
      ['ListTasks', 'ListTasks'],
      ['tasks/delete-everything', 'unknown'],
    ];
    for (const [name, want] of cases) {
      const r = parseJsonRpc(JSON.stringify({ jsonrpc: '2.0', id: 3, method: name, params: {} }));
      expect(r.kind === 'jsonrpc' && r.call.method, name).toBe(want);
    }
  });
  it('ids, batches, non-JSON-RPC bodies', () => {
    expect(parseJsonRpc('{"jsonrpc":"2.0","id":"abc","method":"message/send"}')).toMatchObject({ kind: 'jsonrpc', call: { id: 'abc' } });
    expect(parseJsonRpc('{"jsonrpc":"2.0","id":{"x":1},"method":"message/send"}')).toMatchObject({ kind: 'jsonrpc', call: { id: null } });
    expect(parseJsonRpc('[{"jsonrpc":"2.0","id":1,"method":"message/send"}]').kind).toBe('batch');
    expect(parseJsonRpc('{"message":{}}').kind).toBe('not-jsonrpc');
    expect(parseJsonRpc('not json').kind).toBe('invalid');
  });
  it('REST routes (v1.0, tenants, v0.3 /v1 prefix)', () => {
    const cases: [string, string, string][] = [
      ['POST', '/message:send', 'SendMessage'],
      ['POST', '/a2a/rest/message:stream', 'SendStreamingMessage'],
      ['POST', '/tenant1/message:send', 'SendMessage'],
      ['POST', '/v1/message:send', 'SendMessage'],
      ['GET', '/tasks/t-1', 'GetTask'],
      ['GET', '/tasks', 'ListTasks'],
      ['POST', '/tasks/t-1:cancel', 'CancelTask'],
      ['GET', '/tasks/t-1:subscribe', 'SubscribeToTask'],
      ['POST', '/tasks/t-1:subscribe', 'SubscribeToTask'],
      ['POST', '/tasks/t-1/pushNotificationConfigs', 'CreateTaskPushNotificationConfig'],
      ['GET', '/tasks/t-1/pushNotificationConfigs', 'ListTaskPushNotificationConfigs'],
      ['GET', '/tasks/t-1/pushNotificationConfigs/c-1', 'GetTaskPushNotificationConfig'],
      ['DELETE', '/tasks/t-1/pushNotificationConfigs/c-1', 'DeleteTaskPushNotificationConfig'],
      ['GET', '/extendedAgentCard', 'GetExtendedAgentCard'],
      ['GET', '/v1/card', 'GetExtendedAgentCard'],
      ['GET', '/tasks/t-1?historyLength=2', 'GetTask'],
      ['PUT', '/tasks/t-1', 'unknown'],
      ['POST', '/anything', 'unknown'],
    ];
    for (const [m, p, want] of cases) expect(methodFromRest(m, p), `${m} ${p}`).toBe(want);
  });
});

describe('route and path normalization', () => {
  const has = (n: string) => n === 'a' || n === 'b';
  it('refuses traversal and encoding tricks with 400 (table)', () => {
    const bad = [
      '/a2a/a/../b/x',
      '/a2a/a/%2e%2e/b',
      '/a2a/a/%2E%2E/b',
      '/a2a/a/.%2e/b',
      '/a2a/a/x%2fb',
      '/a2a/a/x%2F..%2Fb',
      '/a2a/a/x%5cb',
      '/a2a/a\\..\\b',
      '/a2a/a//b',
      '/a2a//a/x',
      '/a2a/a/./x',
      '/a2a/a/%252e%252e/b',
      '/a2a/a/%00',
      '/a2a/a/%zz',
      '/a2a/a/x%',
      '/a2a/a/ x',
      'https://evil/a2a/a/x',
      '*',
      '/a2a/a/é',
      '/a2a/a/..',
      '/a2a/a/.',
    ];
    for (const t of bad) {
      const r = decideRoute(t, 'POST', has);
      expect(r.kind === 'error' && r.status, t).toBe(400);
    }
  });
  it('routes clean paths and keeps the query', () => {
    expect(decideRoute('/a2a/a/rpc?x=1&y=%20', 'POST', has)).toEqual({ kind: 'call', agent: 'a', rest: '/rpc', query: '?x=1&y=%20' });
    expect(decideRoute('/a2a/a', 'POST', has)).toEqual({ kind: 'call', agent: 'a', rest: '', query: '' });
    expect(decideRoute('/a2a/a/tasks/t-1:cancel', 'POST', has)).toMatchObject({ kind: 'call', rest: '/tasks/t-1:cancel' });
    expect(decideRoute('/a2a/a/x%20y.json', 'GET', has)).toMatchObject({ kind: 'call', rest: '/x%20y.json' });
    expect(decideRoute('/a2a/a/.well-known/agent-card.json', 'GET', has)).toEqual({ kind: 'card', agent: 'a' });
    expect(decideRoute('/a2a/a/.well-known/agent.json', 'GET', has)).toEqual({ kind: 'card', agent: 'a' });
    expect(decideRoute('/a2a', 'GET', has)).toEqual({ kind: 'directory' });
    expect(decideRoute('/a2a/zz/x', 'POST', has)).toMatchObject({ kind: 'error', status: 404, reason: 'unknown_agent' });
    expect(decideRoute('/metrics', 'GET', has)).toMatchObject({ kind: 'error', status: 404 });
    expect(upstreamPath('/base', '/rpc', '?q')).toBe('/base/rpc?q');
    expect(upstreamPath('', '', '')).toBe('/');
    expect(checkPath('/a2a/a/b.c/d..e')).toBeNull();
  });
});

describe('rate limiter (fake clock)', () => {
  it('token bucket per caller: burst, refill, Retry-After from the bucket', () => {
    const clock = new FakeClock(1_000_000);
    const l = new Limiter({ perCaller: { rps: 2, burst: 3 } });
    for (let i = 0; i < 3; i++) expect(l.acquire('c', 'a', clock.now()).ok).toBe(true);
    const r = l.acquire('c', 'a', clock.now());
    expect(r).toEqual({ ok: false, limit: 'caller', retryAfterSec: 0.5 });
    clock.advance(499);
    expect(l.acquire('c', 'a', clock.now()).ok).toBe(false);
    clock.advance(1);
    expect(l.acquire('c', 'a', clock.now()).ok).toBe(true);
    expect(l.acquire('other', 'a', clock.now()).ok).toBe(true); // separate bucket
    clock.advance(3600_000);
    for (let i = 0; i < 3; i++) expect(l.acquire('c', 'a', clock.now()).ok).toBe(true); // capped at burst
    expect(l.acquire('c', 'a', clock.now()).ok).toBe(false);
  });
  it('edge bucket refusal does not drain the caller bucket; concurrency cap with release', () => {
    const clock = new FakeClock(0);
    const l = new Limiter({ perCaller: { rps: 1, burst: 2 }, perEdge: { rps: 1, burst: 1 }, maxConcurrentPerCallee: 1 });
    expect(l.acquire('c', 'a', clock.now()).ok).toBe(true);
    expect(l.acquire('c', 'a', clock.now())).toMatchObject({ ok: false, limit: 'edge', retryAfterSec: 1 });
    expect(l.acquire('c', 'b', clock.now()).ok).toBe(true); // caller still had a token: edge refusal took none
    clock.advance(5000);
    expect(l.acquire('d', 'a', clock.now())).toMatchObject({ ok: false, limit: 'concurrency' });
    l.release('a');
    expect(l.acquire('d', 'a', clock.now()).ok).toBe(true);
  });
  it('a clock going backwards neither refills nor breaks', () => {
    const l = new Limiter({ perCaller: { rps: 1, burst: 1 } });
    expect(l.acquire('c', 'a', 10_000).ok).toBe(true);
    expect(l.acquire('c', 'a', 5_000).ok).toBe(false);
    expect(l.acquire('c', 'a', 11_000).ok).toBe(true);
  });
});

describe('card rewriting', () => {
  const r = { gatewayBase: 'https://gw:8443/a2a/w', upstreamBasePath: '' };
  it('v1.0: URLs to the gateway, gRPC dropped without a gRPC upstream, signatures dropped, mTLS required', () => {
    const card = rewriteCard(
      {
        name: 'w',
        supportedInterfaces: [
          { url: 'https://10.0.0.5:9000/a2a/jsonrpc', protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
          { url: '10.0.0.5:50051', protocolBinding: 'GRPC', protocolVersion: '1.0' },
          { url: 'https://10.0.0.5:9000/a2a/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '0.3' },
        ],
        securitySchemes: { bearer: { httpAuthSecurityScheme: { scheme: 'Bearer' } } },
        securityRequirements: [{ schemes: { bearer: { list: [] } } }],
        signatures: [{ protected: 'x', signature: 'y' }],
      },
      r,
    );
    expect(card.supportedInterfaces).toEqual([
      { url: 'https://gw:8443/a2a/w/a2a/jsonrpc', protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: 'https://gw:8443/a2a/w/a2a/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '0.3' },
    ]);
    expect(card.signatures).toBeUndefined();
    expect(card.securitySchemes).toMatchObject({ bearer: {}, tollgateMtls: { mtlsSecurityScheme: {} } });
    expect(card.securityRequirements).toEqual([{ schemes: { bearer: { list: [] }, tollgateMtls: { list: [] } } }]);
  });
  it('v0.3: url + additionalInterfaces, OpenAPI-style security; the base path is not doubled', () => {
    const card = rewriteCard(
      {
        name: 'w',
        url: 'https://agent.internal/base/rpc',
        preferredTransport: 'JSONRPC',
        additionalInterfaces: [
          { url: 'https://agent.internal/base/rpc', transport: 'JSONRPC' },
          { url: 'agent.internal:50051', transport: 'GRPC' },
        ],
      },
      { gatewayBase: 'https://gw/a2a/w', upstreamBasePath: '/base' },
    );
    expect(card.url).toBe('https://gw/a2a/w/rpc');
    expect(card.additionalInterfaces).toEqual([{ url: 'https://gw/a2a/w/rpc', transport: 'JSONRPC' }]);
    expect(card.securitySchemes).toEqual({ tollgateMtls: { type: 'mutualTLS', description: expect.any(String) } });
    expect(card.security).toEqual([{ tollgateMtls: [] }]);
    expect(rewriteEndpoint('https://x/base', { gatewayBase: 'https://gw/a2a/w', upstreamBasePath: '/base' })).toBe('https://gw/a2a/w');
    expect(rewriteEndpoint('ftp://x/y', r)).toBeNull();
  });
  it("snake_case fields are rewritten like camelCase ones, and the mTLS scheme is written in the card's spelling", () => {
    const v1 = rewriteCard(
      {
        name: 'w',
        supported_interfaces: [
          { url: 'https://agent.internal/base/rpc', protocol_binding: 'JSONRPC' },
          { url: 'agent.internal:50051', protocol_binding: 'grpc' },
        ],
        security_requirements: [],
        signatures: [{ protected: 'x', signature: 'y' }],
      },
      { gatewayBase: 'https://gw/a2a/w', upstreamBasePath: '/base' },
    );
    expect(v1).toEqual({
      name: 'w',
      supported_interfaces: [{ url: 'https://gw/a2a/w/rpc', protocol_binding: 'JSONRPC' }],
      security_schemes: { tollgateMtls: { mtls_security_scheme: { description: expect.any(String) } } },
      security_requirements: [{ schemes: { tollgateMtls: { list: [] } } }],
    });
    const v03 = rewriteCard(
      {
        url: 'https://agent.internal/rpc',
        preferred_transport: 'JSONRPC',
        additional_interfaces: [{ url: 'https://agent.internal/rest', transport: 'HTTP+JSON' }],
      },
      r,
    );
    expect(v03.url).toBe('https://gw:8443/a2a/w/rpc');
    expect(v03.additional_interfaces).toEqual([{ url: 'https://gw:8443/a2a/w/rest', transport: 'HTTP+JSON' }]);
    expect(v03.security_schemes).toEqual({ tollgateMtls: { type: 'mutualTLS', description: expect.any(String) } });
    // a card carrying both spellings gets the scheme required in both
    const both = rewriteCard({ name: 'w', securityRequirements: [], security_requirements: [{ schemes: { k: { list: [] } } }] }, r);
    expect(both.securityRequirements).toEqual([{ schemes: { tollgateMtls: { list: [] } } }]);
    expect(both.security_requirements).toEqual([{ schemes: { k: { list: [] }, tollgateMtls: { list: [] } } }]);
  });
});

describe('card signature payload', () => {
  it('is what the A2A SDK computes for a v1.0 card: no signatures, no empty values, JCS', () => {
    const card = {
      name: 'Example Agent',
      description: '',
      version: '1',
      supportedInterfaces: [{ url: 'https://gw/a2a/x', protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' }],
      capabilities: { streaming: false, pushNotifications: false, extensions: [] },
      securitySchemes: { tollgateMtls: { mtlsSecurityScheme: { description: 'mTLS' } } },
      securityRequirements: [{ schemes: { tollgateMtls: { list: [] } } }],
      defaultInputModes: ['text'],
      defaultOutputModes: ['text'],
      skills: [{ id: 's', name: 'S', description: 'd', tags: ['t'], examples: [] }],
      signatures: [{ protected: 'x', signature: 'y' }],
    };
    expect(cardPayload(card)).toBe(canonicalizeAgentCard(card as unknown as AgentCard));
    expect(cardPayload({ b: [1, ''], a: { c: null, d: false }, e: {} })).toBe('{"a":{"d":false},"b":[1]}');
  });
});

describe('header filtering', () => {
  it('strips identity and hop-by-hop headers to the callee and sets XFCC once', () => {
    const raw = [
      'Host',
      'gw',
      'X-Forwarded-Client-Cert',
      'evil',
      'x-forwarded-client-cert',
      'evil2',
      'X-Tollgate-Caller',
      'evil',
      'Tollgate-Delegation',
      'evil',
      'Connection',
      'x-a',
      'X-A',
      '1',
      'Content-Length',
      '99',
      'Accept',
      'json',
      'Transfer-Encoding',
      'chunked',
    ];
    const out = upstreamRequestHeaders(raw, 'x-a', 'By=g;URI=c', 10, ['tollgate-delegation', 'ok']);
    // the gateway's own headers first: a receiver that keeps only the first N headers cannot lose them
    expect(out).toEqual(['x-forwarded-client-cert', 'By=g;URI=c', 'content-length', '10', 'tollgate-delegation', 'ok', 'accept', 'json']);
  });
  it('strips the bare "x-tollgate-" prefix as a header name too', () => {
    expect(upstreamRequestHeaders(['x-tollgate-', 'v', 'X-TOLLGATE-', 'v', 'x-tollgatex', 'kept'], undefined, 'x', 0, [])).toEqual([
      'x-forwarded-client-cert',
      'x',
      'x-tollgatex',
      'kept',
    ]);
  });
  it("a header set by a stage replaces the caller's header of the same name", () => {
    const out = upstreamRequestHeaders(['traceparent', 'from-caller', 'Accept', '*/*'], undefined, 'x', 0, ['traceparent', 'from-stage']);
    expect(out).toEqual(['x-forwarded-client-cert', 'x', 'traceparent', 'from-stage', 'accept', '*/*']);
  });
  it('strips hop-by-hop and tollgate-delegation from the answer, keeps tollgate-cost', () => {
    const out = callerResponseHeaders([
      Buffer.from('Content-Type'),
      Buffer.from('application/json'),
      Buffer.from('Tollgate-Cost'),
      Buffer.from('1'),
      Buffer.from('tollgate-delegation'),
      Buffer.from('x'),
      Buffer.from('Keep-Alive'),
      Buffer.from('timeout=5'),
    ]);
    expect(out).toEqual(['content-type', 'application/json', 'tollgate-cost', '1']);
  });
});

describe('Exchange', () => {
  it('refuses stage-set identity or framing headers, accepts tollgate-delegation', async () => {
    const { Exchange } = await import('../../proxy/exchange.js');
    const req = { method: 'POST', headers: {} } as unknown as import('node:http').IncomingMessage;
    const ex = new Exchange(req, {} as import('node:http').ServerResponse, 0, 0, {} as never, {} as never);
    expect(() => ex.setUpstreamHeader('X-Forwarded-Client-Cert', 'x')).toThrow(TypeError);
    expect(() => ex.setUpstreamHeader('x-tollgate-caller', 'x')).toThrow(TypeError);
    expect(() => ex.setUpstreamHeader('content-length', '1')).toThrow(TypeError);
    ex.setUpstreamHeader('Tollgate-Delegation', 'v');
    expect(ex.upstreamHeaders).toEqual(['tollgate-delegation', 'v']);
  });
  it('reads response headers as governance sees them: repeats joined like Fetch Headers, undefined when absent', async () => {
    const { Exchange } = await import('../../proxy/exchange.js');
    const req = { method: 'POST', headers: {} } as unknown as import('node:http').IncomingMessage;
    const ex = new Exchange(req, {} as import('node:http').ServerResponse, 0, 0, {} as never, {} as never);
    ex.responseHeaders = ['content-type', 'application/json', 'tollgate-cost', '1', 'x', 'y', 'tollgate-cost', '2'];
    expect(ex.responseHeader('content-type')).toBe('application/json');
    expect(ex.responseHeader('tollgate-cost')).toBe('1, 2');
    expect(ex.responseHeader('absent')).toBeUndefined();
  });
});

describe('audit line and metric cells', () => {
  it('writes valid JSON, escaping only when needed', async () => {
    const { auditLine } = await import('../../proxy/audit.js');
    const rec = {
      caller: 'spiffe://example.org/a',
      callee: 'b',
      method: 'SendMessage',
      decision: 'allow' as const,
      reason: 'ok',
      status: 200,
      bytesIn: 1,
      bytesOut: 2,
      durationUs: 3,
    };
    expect(JSON.parse(auditLine(rec, 5))).toEqual({ level: 30, time: 5, kind: 'call', ...rec });
    const odd = JSON.parse(auditLine({ ...rec, caller: 'a"b\\c\nd\u00e9', traceId: 'abc', status: NaN }, 5));
    expect(odd).toMatchObject({ caller: 'a"b\\c\nd\u00e9', traceId: 'abc', status: 0 });
    // the delegation ids, beside the other fields (absent when governance gave none)
    const ids = JSON.parse(auditLine({ ...rec, rootTaskId: 'Pj44AQUxC6hs2JnG_cHuzw', callId: 'c-1' }, 5));
    expect(ids).toEqual({ level: 30, time: 5, kind: 'call', ...rec, rootTaskId: 'Pj44AQUxC6hs2JnG_cHuzw', callId: 'c-1' });
  });
  it('cells record exactly what prom-client records through its API', async () => {
    const { createMetrics, counterCell, histogramCell } = await import('../../proxy/metrics.js');
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    const c = counterCell(a.requests, { caller: 'x', callee: 'y', method: 'SendMessage', status: '200' });
    const hc = histogramCell(a.requestDuration, { callee: 'y', method: 'SendMessage' });
    for (const v of [0.0001, 0.003, 0.2, 7, 100]) {
      c.inc();
      hc.observe(v);
      b.requests.labels('x', 'y', 'SendMessage', '200').inc();
      b.requestDuration.labels('y', 'SendMessage').observe(v);
    }
    const pick = (t: string) =>
      t
        .split('\n')
        .filter((l) => /^tollgate_(requests_total|request_duration)/.test(l))
        .join('\n');
    expect(pick(await a.text())).toBe(pick(await b.text()));
    expect(pick(await a.text())).toContain('tollgate_request_duration_seconds_count{callee="y",method="SendMessage"} 5');
  });
});
