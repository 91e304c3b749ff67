/**
 * Redemption is all-or-nothing: a CA process killed with SIGKILL in the middle of many concurrent
 * bootstraps leaves every join token either unused, or used with exactly one recorded certificate for its
 * identity (and, since schema v2, the token row names that certificate's serial). Read back with the real
 * `sqlite3` CLI.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashToken } from '../../ca/tokens.js';
import { TD, closeAll, makeCsr, open, tempDir } from './helpers.js';

afterAll(closeAll);

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const COUNT = 400;

function sql(db: string, query: string): string {
  const r = spawnSync('sqlite3', [db, query], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3 ${query}: ${r.stderr}`);
  return r.stdout.trim();
}

function runChild(dataDir: string): Promise<{ signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, ['--import', path.join(FIXTURES, 'register-ts.mjs'), path.join(FIXTURES, 'redeem-child.mjs'), dataDir, TD, String(COUNT)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TOLLGATE_TS_CACHE: tempDir('tollgate-ts-cache-') },
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer | string) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer | string) => (stderr += d.toString()));
  return new Promise((resolve) => p.on('close', (_code, signal) => resolve({ signal, stdout, stderr })));
}

describe('kill -9 during concurrent bootstraps', () => {
  it('leaves every token unused or matched with exactly one recorded certificate', async () => {
    const dataDir = tempDir();
    const child = await runChild(dataDir);
    const tokens = JSON.parse(child.stdout.split('\n')[0]) as string[];
    expect(tokens, child.stderr).toHaveLength(COUNT);
    expect(child.signal).toBe('SIGKILL');

    const db = path.join(dataDir, 'tollgate.db');
    const used = Number(sql(db, 'SELECT count(*) FROM tokens WHERE used_at IS NOT NULL'));
    expect(used).toBeGreaterThan(0); // it was killed mid-way, not before or after
    expect(used).toBeLessThan(COUNT);
    // every token used has exactly one certificate for its identity (identities are one per token)
    const burned = sql(
      db,
      `SELECT t.spiffe_id FROM tokens t WHERE t.used_at IS NOT NULL AND (SELECT count(*) FROM issued i WHERE i.spiffe_id = t.spiffe_id) != 1`,
    );
    expect(burned.split('\n').filter(Boolean)).toEqual([]);
    // and no certificate without its token
    expect(Number(sql(db, `SELECT count(*) FROM issued WHERE kind = 'svid'`))).toBe(used);
    // the token row names the certificate it produced
    const unmatched = sql(
      db,
      `SELECT count(*) FROM tokens t WHERE t.used_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM issued i WHERE i.serial = t.serial AND i.spiffe_id = t.spiffe_id)`,
    );
    expect(Number(unmatched)).toBe(0);
    expect(Number(sql(db, 'PRAGMA integrity_check') === 'ok')).toBe(1);

    // after the restart the used tokens stay used and the unused ones work
    const ca = await open({ dataDir });
    expect((await ca.listIssued({ limit: 10_000 })).filter((c) => c.spiffeId.includes('/agent/r'))).toHaveLength(used);
    const isUsed = (t: string) => sql(db, `SELECT used_at IS NOT NULL FROM tokens WHERE hash = '${hashToken(t)}'`) === '1';
    const csr = (await makeCsr()).der;
    await expect(ca.bootstrap(tokens.find(isUsed)!, csr)).rejects.toMatchObject({ code: 'token_used' });
    const svid = await ca.bootstrap(
      tokens.find((t) => !isUsed(t))!,
      csr,
    );
    expect(sql(db, `SELECT serial FROM tokens WHERE spiffe_id = '${svid.spiffeId}'`)).toBe(svid.serial);
  }, 60_000);
});
