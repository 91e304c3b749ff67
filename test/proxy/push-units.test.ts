/** The pure parts of push governance: URLs, config extraction, the route, the sender's identity, decidePush. */
import { describe, expect, it } from 'vitest';
import { decidePushUrl, mayCarryPushConfig, pushUrlsIn, type GatewayAddress } from '../../proxy/a2a/push-config.js';
import { decideRoute } from '../../proxy/stages/route.js';
import { policyMethod, parseJsonRpc } from '../../proxy/a2a/methods.js';
import { pushCallbackUrl } from '../../protocol/push.js';
import { pushSender } from '../../agent-bootstrap/push.js';
import { decidePush } from '../../governance/delegation/push.js';
import type { DelegationLimits } from '../../governance/delegation/decide.js';
import type { TaskState } from '../../governance/delegation/tasks.js';
import type { DelegationContext } from '../../governance/delegation/token.js';

const gw: GatewayAddress = { hosts: new Set(['gw.example', '127.0.0.1', '::1']), ports: [8443], origin: 'https://gw.example:8443' };
const has = (n: string) => n !== 'nopush';
const decide = (url: unknown, caller: string | undefined = 'alice') => decidePushUrl(url, caller, gw, has);

describe('decidePushUrl', () => {
  it('accepts exactly the canonical callback URL naming the caller', () => {
    for (const u of [
      'https://gw.example:8443/a2a-push/alice/',
      'https://gw.example:8443/a2a-push/alice/t-1?x=1',
      'https://[::1]:8443/a2a-push/alice',
      'https://127.0.0.1:8443/a2a-push/alice/a/b',
    ]) {
      expect(decide(u), u).toEqual({ ok: true });
    }
  });
  it('refuses everything else as push_url_not_gateway', () => {
    for (const u of [
      'https://127.0.0.1:6379/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://gw.example/a2a-push/alice/', // 443: not a gateway port here
      'http://gw.example:8443/a2a-push/alice/',
      'https://gw.example.evil:8443/a2a-push/alice/',
      'https://u:p@gw.example:8443/a2a-push/alice/',
      'https://gw.example:8443/a2a-push/alice/#f',
      'https://GW.example:8443/a2a-push/alice/', // not canonical
      'https://gw.example:8443/a2a-push/x/../alice/',
      'https://gw.example:8443/a2a-push/alice/%2e%2e/bob',
      'https://gw.example:8443/a2a-push/alice/%2Fx',
      'https://gw.example:8443/a2a/alice/',
      'https://gw.example:8443/a2a-pushy/alice/',
      'https://gw.example:8443\\a2a-push\\alice\\',
      '/a2a-push/alice/',
      '',
      42,
      null,
      ['https://gw.example:8443/a2a-push/alice/'],
    ]) {
      const d = decide(u);
      expect(d.ok, String(u)).toBe(false);
      if (!d.ok) expect(d.reason, String(u)).toBe('push_url_not_gateway');
    }
  });
  it('refuses a receiver that is not the caller (403), an unregistered caller, a receiver without push endpoint', () => {
    expect(decide('https://gw.example:8443/a2a-push/bob/')).toMatchObject({ ok: false, status: 403, reason: 'push_receiver_not_caller' });
    expect(decidePushUrl('https://gw.example:8443/a2a-push/alice/', undefined, gw, has)).toMatchObject({
      ok: false,
      status: 403,
      reason: 'push_receiver_not_caller',
    });
    expect(decidePushUrl('https://gw.example:8443/a2a-push/nopush/', 'nopush', gw, has)).toMatchObject({ ok: false, reason: 'push_receiver_no_endpoint' });
  });
});

describe('push configs in bodies', () => {
  it('the cheap check is false only for bodies that cannot hold a push-config key', () => {
    expect(mayCarryPushConfig(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{}}}'))).toBe(false);
    expect(mayCarryPushConfig(Buffer.from('{"pushNotificationConfig":{}}'))).toBe(true);
    expect(mayCarryPushConfig(Buffer.from('{"task_push_notification_config":{}}'))).toBe(true);
    expect(mayCarryPushConfig(Buffer.from('{"push\\u004eotificationConfig":{}}'))).toBe(true);
  });
  it('finds URLs under every spelling, at any depth, and the flat create form', () => {
    const urls = (v: unknown, flat = false) => pushUrlsIn(v, flat).map((f) => f.url);
    expect(urls({ configuration: { pushNotificationConfig: { url: 'a' } } })).toEqual(['a']);
    expect(urls({ configuration: { TASK_PUSH_NOTIFICATION_CONFIG: { url: 'b' } } })).toEqual(['b']);
    expect(urls({ x: [{ y: { taskPushNotificationConfig: { url: 'c', pushNotificationConfig: { url: 'd' } } } }] })).toEqual(['c', 'd']);
    expect(urls({ pushNotificationConfigs: [{ url: 'e' }, 'f'] })).toEqual(['e', 'f']);
    expect(urls({ taskId: 't', url: 'g' }, true)).toEqual(['g']);
    expect(urls({ taskId: 't', url: 'g' })).toEqual([]);
    expect(urls({ pushNotificationConfig: { token: 'no url' } })).toEqual([]);
  });
});

describe('the route and the names', () => {
  it('routes /a2a-push/<receiver>/<rest> with the strict path checks of /a2a/', () => {
    expect(decideRoute('/a2a-push/alice/t?x=1', 'POST', () => true)).toEqual({ kind: 'push', agent: 'alice', rest: '/t', query: '?x=1' });
    expect(decideRoute('/a2a-push/alice', 'POST', () => true)).toEqual({ kind: 'push', agent: 'alice', rest: '', query: '' });
    expect(decideRoute('/a2a-push/alice/../bob', 'POST', () => true)).toMatchObject({ kind: 'error', status: 400 });
    expect(decideRoute('/a2a-push/x', 'POST', () => false)).toMatchObject({ kind: 'error', status: 404, reason: 'unknown_agent' });
    expect(decideRoute('/a2a-pushx/alice/', 'POST', () => true)).toMatchObject({ kind: 'error', reason: 'no_route' });
    expect(decideRoute('/a2a/a2a-push/', 'POST', (n) => n === 'a2a-push')).toMatchObject({ kind: 'call', agent: 'a2a-push' });
  });
  it('PushNotification is a policy method, never a body method', () => {
    expect(policyMethod('PushNotification')).toBe('PushNotification');
    expect(policyMethod('message/send')).toBe('SendMessage');
    expect(policyMethod('pushNotification')).toBeUndefined();
    expect(parseJsonRpc(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"PushNotification"}'))).toEqual({
      kind: 'jsonrpc',
      call: { method: 'unknown', id: 1, namesTask: false },
    });
  });
  it('pushCallbackUrl builds what decidePushUrl accepts, and refuses what it would refuse', () => {
    expect(pushCallbackUrl('https://gw.example:8443', 'alice', 'job/1')).toBe('https://gw.example:8443/a2a-push/alice/job/1');
    expect(decide(pushCallbackUrl('https://gw.example:8443/', 'alice'))).toEqual({ ok: true });
    expect(() => pushCallbackUrl('http://gw.example', 'alice')).toThrow(/https/);
    expect(() => pushCallbackUrl('https://gw.example/base', 'alice')).toThrow(/https/);
    expect(() => pushCallbackUrl('https://gw.example', 'Alice')).toThrow(/receiver/);
    expect(() => pushCallbackUrl('https://gw.example', 'alice', '../bob')).toThrow(/rest/);
  });
  it('pushSender trusts XFCC only with the gateway push marking', () => {
    const G = 'spiffe://td/tollgate/gateway';
    expect(pushSender({ 'tollgate-push': '1', 'x-forwarded-client-cert': `By=${G};URI=spiffe://td/agent/w` }, G)).toEqual({
      ok: true,
      sender: 'spiffe://td/agent/w',
    });
    expect(pushSender({ 'x-forwarded-client-cert': `By=${G};URI=spiffe://td/agent/w` }, G).ok).toBe(false);
    expect(pushSender({ 'tollgate-push': '1', 'x-forwarded-client-cert': `By=spiffe://td/other;URI=spiffe://td/agent/w` }, G).ok).toBe(false);
    expect(pushSender({ 'tollgate-push': '1', 'x-forwarded-client-cert': `By=${G};URI=spiffe://td/a,By=${G};URI=spiffe://td/b` }, G).ok).toBe(false);
  });
});

describe('decidePush', () => {
  const limits: DelegationLimits = { maxDepth: 2, tokenTtlMs: 60_000, maxCalls: 3, maxFanOut: 1, maxConcurrent: 1, deadlineMs: 100_000, maxCost: undefined };
  const ctx = { rootTaskId: 'r', chain: ['spiffe://td/o', 'spiffe://td/w'], callId: 'c', depth: 2, rootStartedAt: 0 } as unknown as DelegationContext;
  const task = (over: Partial<TaskState> = {}) => ({ calls: 1, inFlight: 5, cost: 0, cancelled: false, ...over }) as TaskState;
  const caller = { id: 'spiffe://td/w', name: 'w', requireDelegationContext: false };
  it('ignores loop, depth, fan-out and concurrency (the receiver is in the chain by construction)', () => {
    expect(decidePush({ now: 10, context: ctx, caller, limits, task: task(), windows: undefined })).toEqual({ allow: true });
  });
  it('counts against the task: cancelled, deadline, unknown task, maxCalls; and the sender windows', () => {
    const r = (over: Partial<Parameters<typeof decidePush>[0]>) => {
      const d = decidePush({ now: 10, context: ctx, caller, limits, task: task(), windows: undefined, ...over });
      return d.allow ? 'allow' : d.refusal.reason;
    };
    expect(r({ task: task({ cancelled: true }) })).toBe('context_cancelled');
    expect(r({ now: 100_000 })).toBe('task_deadline');
    expect(r({ task: undefined })).toBe('context_task_unknown');
    expect(r({ task: task({ calls: 3 }) })).toBe('task_max_calls');
    expect(r({ windows: { budget: 'callsPerMinute', limit: 1, used: 1, retryAfterSec: 3 } })).toBe('agent_calls_per_minute');
    expect(r({ context: undefined, task: undefined })).toBe('allow');
    expect(r({ context: undefined, task: undefined, caller: { ...caller, requireDelegationContext: true } })).toBe('context_required');
  });
});
