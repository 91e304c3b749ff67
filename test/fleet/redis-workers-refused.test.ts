/**
 * Issue #13: `tollgate serve --workers N` (N > 1) without both fleet backends would give each worker its own
 * rate limits, budgets and kill switch (every limit multiplied by N): it is refused before anything starts,
 * with one line that says why and what to configure, exit code 2 (a usage error).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tollgate } from '../cli/run.js';
import { TEST_REDIS_URL } from '../redis.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-workers-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function serve(name: string, config: string, ...extra: string[]) {
  ensureBuilt();
  const file = path.join(work, `${name}.yaml`);
  fs.writeFileSync(file, `trustDomain: fleet.test\nlisten: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }\n${config}`);
  const dataDir = path.join(work, name);
  const r = tollgate(['serve', '--config', file, '--data-dir', dataDir, '--workers', '2', ...extra]);
  return { ...r, lines: r.stderr.split('\n').filter((l) => l !== ''), started: fs.existsSync(dataDir) };
}

describe('serve --workers 2 without the fleet backends', () => {
  it.each([
    ['neither redis nor postgres', '', [], ['store: postgres://... (or --store) and redis: { url: redis://... }']],
    ['postgres, no redis', '', ['--store', 'postgres://postgres@127.0.0.1:5432/unused'], ['configure redis: { url: redis://... }']],
    ['redis, no postgres (SQLite)', `redis: { url: "${TEST_REDIS_URL}" }\n`, [], ['configure store: postgres://... (or --store);']],
  ] as const)('%s: refused with one clear line, exit code 2, nothing started', (name, config, extra, says) => {
    const r = serve(name.replace(/\W+/g, '-'), config, ...extra);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.lines, r.stderr).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^tollgate: --workers 2 needs the fleet backends, .*every limit would multiply by 2: configure /);
    for (const s of says) expect(r.lines[0]).toContain(s);
    expect(r.started, 'no data dir was created').toBe(false);
  });

  it('--workers with a value it does not take: exit code 2, naming what it takes', () => {
    const r = tollgate(['serve', '--workers', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--workers: expected a number from 1 to 256 or "auto"');
  });
});

describe('serve with redis: configured but unreachable', () => {
  it('does not start: one line naming the Redis URL (no password) and what to check, exit code 1', () => {
    ensureBuilt();
    const file = path.join(work, 'no-redis.yaml');
    fs.writeFileSync(
      file,
      'trustDomain: fleet.test\nlisten: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }\nredis: { url: "redis://:s3cret@127.0.0.1:1" }\n',
    );
    const r = tollgate(['serve', '--config', file, '--data-dir', path.join(work, 'no-redis')]);
    expect(r.code, r.stderr).toBe(1);
    const last = r.stderr.split('\n').filter((l) => l.startsWith('tollgate: '));
    expect(last, r.stderr).toHaveLength(1);
    expect(last[0]).toContain('cannot reach Redis at redis://:***@127.0.0.1:1');
    expect(last[0]).toContain('check redis.url in the config and that Redis is running');
    expect(r.stderr).not.toContain('s3cret');
  });
});
