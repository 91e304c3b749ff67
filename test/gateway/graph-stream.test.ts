import { afterEach, describe, expect, it } from 'vitest';
import { KeyRing } from '../../governance/delegation/index.js';
import { startGraphStream, type GraphStream } from '../../gateway/graph-stream.js';
import type { GraphEvent } from '../../governance/graph/index.js';
import { answer, call, ID, makeConfig, makeStage, rootId } from '../delegation/helpers.js';
import { testRedis, TEST_REDIS_URL } from '../redis.js';
import { RespConnection } from '../../governance/fleet/resp.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const silent = { info() {}, warn() {}, error() {} };

/**
 * Two replicas' delegation stages sharing keys and a graph stream on a Redis prefix of the test's own. A
 * publishes on a hot-path connection (its batches go out with the turn's write, as `tollgate serve` wires
 * it), B on ioredis: each test carries events both ways.
 */
function twoReplicas() {
  const t = testRedis();
  cleanup.push(() => t.cleanup());
  const config = makeConfig();
  const clock = { now: () => Date.now(), advance() {}, set() {} };
  const keyring = new KeyRing({ now: clock.now, retentionMs: config.delegation.tokenTtl });
  const url = new URL(TEST_REDIS_URL);
  const replica = (viaTurn: boolean) => {
    const sink: { publish?: (e: GraphEvent) => void } = {};
    const made = makeStage(config, clock, { keyring, feed: (e) => sink.publish?.(e) });
    const turn = viaTurn ? new RespConnection({ host: url.hostname, port: Number(url.port || 6379), commandTimeout: 2000 }) : undefined;
    if (turn) cleanup.push(() => turn.close());
    const stream: GraphStream = startGraphStream({ redis: t.client(), turn, prefix: t.prefix, graph: made.stage.graph, windowMs: 60_000, log: silent });
    sink.publish = (e) => stream.publish(e);
    cleanup.push(() => stream.close());
    return { ...made, stream };
  };
  return { a: replica(true), b: replica(false) };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the call graph shared over a Redis stream', () => {
  it('a task whose hops go through two replicas shows as one tree, with the loop cut, on both', async () => {
    const { a, b } = twoReplicas();
    const first = call(a.stage, 'orchestrator', 'researcher'); // on A
    const root = rootId(first);
    const second = call(b.stage, 'researcher', 'writer', first.token); // on B
    expect(second.refusal).toBeUndefined();
    const loop = call(a.stage, 'writer', 'researcher', second.token); // on A: researcher again
    expect(loop.refusal?.reason).toBe('loop');
    answer(b.stage, second, 200, '3');
    answer(a.stage, first, 200);
    for (const r of [a, b]) {
      await until(() => (r.stage.graph.trees.get(root)?.calls.size ?? 0) === 3);
      const tree = r.stage.graph.trees.get(root);
      expect(tree?.loops).toHaveLength(1);
      expect([...(tree?.calls.values() ?? [])].map((c) => c.decision).sort()).toEqual(['allowed', 'allowed', 'refused']);
      await until(() => (r.stage.graph.trees.get(root)?.cost ?? 0) === 3);
    }
    // the finished call's status reached the replica that did not forward it
    const secondId = (second.ctx.governance as { callId: string }).callId;
    await until(() => a.stage.graph.trees.get(root)?.calls.get(secondId)?.status === 200);
  });

  it('an aggregate cycle formed by edges seen on different replicas is found on each', async () => {
    const { a, b } = twoReplicas();
    // edges a -> b on replica A, b -> a on replica B: neither replica alone sees a cycle
    for (let i = 0; i < 3; i++) {
      answer(a.stage, call(a.stage, 'a', 'b'), 200);
      answer(b.stage, call(b.stage, 'b', 'a'), 200);
    }
    await until(() => a.stage.graph.aggregate.cycles().length === 1 && b.stage.graph.aggregate.cycles().length === 1);
    for (const r of [a, b]) expect(new Set(r.stage.graph.aggregate.cycles()[0])).toEqual(new Set([ID.a, ID.b]));
    expect(a.stream.applied()).toBeGreaterThan(0);
  });

  it("a task cancelled on one replica is heard by the others' kill switch (their calls in flight end there)", async () => {
    const t = testRedis();
    cleanup.push(() => t.cleanup());
    const config = makeConfig();
    const clock = { now: () => Date.now(), advance() {}, set() {} };
    const heard: string[] = [];
    const sink: { publish?: (e: GraphEvent) => void } = {};
    const a = makeStage(config, clock, { feed: (e) => sink.publish?.(e) });
    const b = makeStage(config, clock);
    const streamA = startGraphStream({
      redis: t.client(),
      prefix: t.prefix,
      graph: a.stage.graph,
      windowMs: 60_000,
      log: silent,
      onCancel: () => heard.push('a'),
    });
    const streamB = startGraphStream({
      redis: t.client(),
      prefix: t.prefix,
      graph: b.stage.graph,
      windowMs: 60_000,
      log: silent,
      onCancel: (root) => heard.push(root),
    });
    sink.publish = (e) => streamA.publish(e);
    cleanup.push(
      () => streamA.close(),
      () => streamB.close(),
    );
    const root = rootId(call(a.stage, 'orchestrator', 'researcher'));
    a.stage.cancelTask(root);
    await until(() => heard.length > 0);
    expect(heard).toEqual([root]); // B heard it; A does not hear its own
  });
});
