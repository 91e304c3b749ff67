/**
 * Task owners on Redis: the contract (the same as in one process), and two gateways on one Redis prefix
 * in front of one real @a2a-js/sdk agent: a task alice created through one gateway is refused to mallory on
 * the other, alice keeps it on both, and a gateway that cannot reach Redis refuses rather than guess.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { RedisTaskOwners } from '../../governance/fleet/task-owners.js';
import { LruTaskOwners, TieredTaskOwners } from '../../proxy/a2a/task-owners.js';
import { taskOwnersContract } from '../contracts/task-owners.js';
import { testRedis, type TestRedis } from '../redis.js';
import { waitFor } from '../fakes/wait.js';
import { FakeClock } from '../fakes/clock.js';
import { startHarness, post, type Harness } from '../proxy/harness.js';
import { makeTrustDomain } from '../fakes/trust-domain.js';
import { mtlsClient } from '../fakes/mtls-client.js';
import { startA2aAgent, pendingTaskExecutor, type RunningAgent } from '../fakes/a2a-agent.js';
import { startE2e, baseConfig, id as e2eId, type E2e } from '../e2e/harness.js';
import { TEST_REDIS_URL } from '../redis.js';
import fs from 'node:fs';

const DAY = 86_400_000;
const redises: TestRedis[] = [];
afterAll(async () => {
  await Promise.all(redises.map((r) => r.cleanup()));
});

/** keys of one prefix expire now; resolves once Redis no longer has them */
async function expireAll(r: TestRedis): Promise<void> {
  const c = r.client();
  const keys = await c.keys(`${r.prefix}*`);
  for (const k of keys) await c.pexpire(k, 1);
  await waitFor('the keys to expire', async () => ((await c.exists(...(keys.length ? keys : ['none']))) === 0 ? true : undefined), 5000);
}

taskOwnersContract('RedisTaskOwners', () => {
  const r = testRedis();
  redises.push(r);
  const open = () => new RedisTaskOwners({ redis: r.client(), prefix: r.prefix, ttlMs: DAY });
  return Promise.resolve({ owners: open(), other: () => Promise.resolve(open()), expireAll: () => expireAll(r) });
});

taskOwnersContract('TieredTaskOwners over Redis (what a fleet replica runs)', () => {
  const r = testRedis();
  redises.push(r);
  const clock = new FakeClock(1_000);
  const open = () => new TieredTaskOwners(new LruTaskOwners(1000, DAY, clock.now), new RedisTaskOwners({ redis: r.client(), prefix: r.prefix, ttlMs: DAY }));
  return Promise.resolve({
    owners: open(),
    other: () => Promise.resolve(open()),
    expireAll: async () => {
      await expireAll(r);
      clock.advance(DAY); // the replicas' own records expire with the shared ones
    },
  });
});

describe('two gateways on one Redis share task owners', () => {
  const WRITER = 'spiffe://example.org/agent/writer';
  let r: TestRedis;
  let g1: Harness;
  let g2: Harness;
  let agent: RunningAgent;
  const owners = () => new TieredTaskOwners(new LruTaskOwners(1000, DAY), new RedisTaskOwners({ redis: r.client(), prefix: r.prefix, ttlMs: DAY }));
  let g2Redis: ReturnType<TestRedis['client']>;

  beforeAll(async () => {
    r = testRedis();
    redises.push(r);
    const td = await makeTrustDomain('example.org');
    g1 = await startHarness({ td, taskOwners: owners() });
    g2Redis = r.client();
    g2 = await startHarness({
      td,
      taskOwners: new TieredTaskOwners(new LruTaskOwners(1000, DAY), new RedisTaskOwners({ redis: g2Redis, prefix: r.prefix, ttlMs: DAY })),
    });
    const wid = await td.issue(WRITER, { ips: ['127.0.0.1'] });
    agent = await startA2aAgent({
      name: 'writer',
      keyPem: wid.keyPem,
      certChainPem: wid.certChainPem,
      bundlePem: td.bundlePem,
      executor: pendingTaskExecutor(),
    });
    for (const g of [g1, g2]) {
      g.gw.reloadConfig(g.config({ agents: { writer: { url: agent.url, id: WRITER } }, policy: [{ from: 'spiffe://example.org/agent/*', to: ['writer'] }] }));
    }
  });
  afterAll(async () => {
    await g1?.close();
    await g2?.close();
    await agent?.close();
  });

  const rpc = (g: Harness, who: 'alice' | 'mallory', method: string, params: unknown) =>
    post(g.client(g[who]), `${g.base}/a2a/writer/a2a/jsonrpc`, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), { 'a2a-version': '1.0' });

  it("a task created through one gateway is refused to another caller on the other, and stays its creator's", async () => {
    const created = await rpc(g1, 'alice', 'SendMessage', { message: { role: 'ROLE_USER', messageId: randomUUID(), parts: [{ text: 'hi' }] } });
    expect(created.status).toBe(200);
    const id = created.json.result.task.id as string;
    // the record reaches Redis one round trip after the answer went out
    const reader = new RedisTaskOwners({ redis: r.client(), prefix: r.prefix, ttlMs: DAY });
    await waitFor('the owner record on Redis', () => reader.ownerOf('writer', id), 5000);

    const denied = await rpc(g2, 'mallory', 'GetTask', { id });
    expect(denied.status).toBe(403);
    expect(denied.json.error.data.reason).toBe('task_not_owned');
    const listed = await rpc(g2, 'mallory', 'ListTasks', {});
    expect((listed.json.result.tasks as { id: string }[]).map((t) => t.id)).not.toContain(id);

    const mine = await rpc(g2, 'alice', 'GetTask', { id });
    expect(mine.status).toBe(200);
    expect(mine.json.result.id).toBe(id);
    const mineListed = await rpc(g2, 'alice', 'ListTasks', {});
    expect((mineListed.json.result.tasks as { id: string }[]).map((t) => t.id)).toContain(id);
  });

  it('a gateway that cannot reach Redis refuses a call naming a task it does not know (503), rather than guess', async () => {
    const ghost = randomUUID();
    g2Redis.disconnect();
    const r2 = await rpc(g2, 'alice', 'GetTask', { id: ghost });
    expect(r2.status).toBe(503);
    expect(r2.json.error.data.reason).toBe('task_owners_unavailable');
    expect(r2.json.error.message).toContain(ghost);
  });
});

describe('tollgate serve with redis: keeps task owners on Redis', () => {
  let e: E2e;
  let agent: RunningAgent;
  let r: TestRedis;
  afterAll(async () => {
    await agent?.close();
    await e?.close();
  });

  it('the owner of a task created through the gateway is on Redis under the fleet prefix', async () => {
    r = testRedis();
    redises.push(r);
    const redis = `redis: { url: "${TEST_REDIS_URL}", prefix: "${r.prefix}" }`;
    e = await startE2e(baseConfig(redis));
    const m = await e.enroll(e2eId('agent/writer'));
    agent = await startA2aAgent({ name: 'writer', keyPem: m.keyPem, certChainPem: m.certChainPem, bundlePem: m.bundlePem, executor: pendingTaskExecutor() });
    fs.writeFileSync(
      e.configPath,
      baseConfig(`${redis}
agents:
  writer: { url: "${agent.url}", id: "${e2eId('agent/writer')}" }
policy:
  - { from: "${e2eId('user/*')}", to: [writer] }
`).replace('AUDIT', `${e.dir}/audit.log`),
    );
    await e.tg.reload();
    const alice = await e.enroll(e2eId('user/alice'));
    const c = mtlsClient(alice, alice.bundlePem);
    try {
      const created = await c.fetch(`${e.proxyUrl}/a2a/writer/a2a/jsonrpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'a2a-version': '1.0' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'SendMessage',
          params: { message: { role: 'ROLE_USER', messageId: randomUUID(), parts: [{ text: 'hi' }] } },
        }),
      });
      const taskId = ((await created.json()) as { result: { task: { id: string } } }).result.task.id;
      const reader = new RedisTaskOwners({ redis: r.client(), prefix: r.prefix, ttlMs: DAY });
      expect(await waitFor('the owner record on Redis', () => reader.ownerOf('writer', taskId), 5000)).toBe(e2eId('user/alice'));
    } finally {
      await c.close();
    }
  }, 60_000);
});
