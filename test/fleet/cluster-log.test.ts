/**
 * The primary of `tollgate serve --workers 2` logs JSON lines a log shipper can read: one `pid` (the
 * process that wrote the line, as in every other line) and the worker it speaks of under `worker`. The
 * primary wrote the worker's pid as a second `pid` key, which JSON parsers resolve to the last one and
 * some shippers reject.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../pg.js';
import { testRedis, TEST_REDIS_URL } from '../redis.js';
import { ensureBuilt, start, tollgate, type Running } from '../cli/run.js';
import { childPids, within } from './harness.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-cluster-log-'));
const redis = testRedis();
let db: TestDatabase | undefined;
let serve: Running | undefined;
afterAll(async () => {
  await serve?.stop('SIGTERM');
  await db?.drop();
  await redis.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
});

/** the lines with `msg`, each as its raw text and parsed */
const lines = (stderr: string, msg: string) =>
  stderr
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}`))
    .map((raw) => ({ raw, json: JSON.parse(raw) as { pid: number; worker: number } }));

it('names the worker under "worker" and its own pid once, in "worker serving" and "worker died"', { timeout: 60_000 }, async () => {
  ensureBuilt();
  db = await createTestDatabase();
  const config = path.join(work, 'tollgate.yaml');
  fs.writeFileSync(
    config,
    `trustDomain: cluster-log.test
store: ${db.url}
redis: { url: "${TEST_REDIS_URL}", prefix: "${redis.prefix}" }
listen: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }
`,
  );
  const dataDir = path.join(work, 'data');
  expect(tollgate(['ca', 'init', '--config', config, '--data-dir', dataDir]).code).toBe(0);
  serve = start(['serve', '--config', config, '--data-dir', dataDir, '--workers', '2', '--log-format', 'json']);
  const primary = serve.child.pid!;
  await within('both workers serving', 30_000, () => lines(serve!.stderr(), 'worker serving').length === 2, 50);
  const workers = childPids(primary);
  expect(workers).toHaveLength(2);
  const serving = lines(serve.stderr(), 'worker serving');
  for (const l of serving) {
    expect(l.raw.match(/"pid":/g), l.raw).toHaveLength(1);
    expect(l.json.pid).toBe(primary);
  }
  expect(serving.map((l) => l.json.worker).sort()).toEqual([...workers].sort());

  process.kill(workers[0], 'SIGKILL');
  await within('the death logged', 15_000, () => lines(serve!.stderr(), 'worker died').length === 1, 50);
  const [died] = lines(serve.stderr(), 'worker died');
  expect(died.raw.match(/"pid":/g), died.raw).toHaveLength(1);
  expect(died.json).toMatchObject({ pid: primary, worker: workers[0], signal: 'SIGKILL' });
});
