import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, post, get, SEND, ALICE, type Harness } from './harness.js';

/**
 * A policy rule without `methods` allows every A2A method, not every request: a path or JSON-RPC method
 * the gateway cannot name as A2A (an agent's admin page, a debug endpoint, a custom RPC) is refused
 * unless the rule says `nonA2A: true`.
 */
describe('requests that are not A2A methods', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('refuses a non-A2A path under a rule without methods (403 not_a2a), forwarding nothing', async () => {
    const before = h.upstream.requests.length;
    const r = await get(h.client(h.alice), `${h.base}/a2a/echo/admin/secrets`);
    expect(r.status).toBe(403);
    expect(r.json.error.data.reason).toBe('not_a2a');
    expect(r.json.error.message).toContain('nonA2A');
    const p = await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tasks/delete-everything', params: {} }));
    expect(p.status).toBe(403);
    expect(p.json.id).toBe(3);
    expect(p.json.error.data.reason).toBe('not_a2a');
    expect(h.upstream.requests.length).toBe(before);
  });

  it('still forwards A2A methods under the same rule', async () => {
    expect((await post(h.client(h.alice), `${h.base}/a2a/echo/rpc`, SEND(9))).status).toBe(200);
    // a REST GetTask is an A2A method: what decides it is task ownership (a task the gateway never saw), not not_a2a
    const t = await get(h.client(h.alice), `${h.base}/a2a/echo/tasks/t-1`);
    expect([t.status, t.json.error.data.reason]).toEqual([403, 'task_unknown']);
  });

  it('forwards non-A2A requests when the rule says nonA2A: true', async () => {
    h.gw.reloadConfig(h.config({ policy: [{ from: ALICE, to: ['echo'], nonA2A: true }] }));
    try {
      const r = await get(h.client(h.alice), `${h.base}/a2a/echo/admin/secrets`);
      expect(r.status).toBe(200);
      expect(h.upstream.requests.at(-1)!.url).toBe('/admin/secrets');
    } finally {
      h.gw.reloadConfig(h.config());
    }
  });
});
