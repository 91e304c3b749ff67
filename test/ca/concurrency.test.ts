/**
 * One token, many redemptions at once: exactly one certificate. In one process (Promise.all), across two
 * Authority instances on one database, and across child processes racing on the same SQLite file.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TD, closeAll, makeCsr, open, tempDir } from './helpers.js';

afterAll(closeAll);

const ID = `spiffe://${TD}/agent/writer`;
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const tsCache = tempDir('tollgate-ts-cache-');

function tally(results: PromiseSettledResult<unknown>[]) {
  const codes: Record<string, number> = {};
  let ok = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') ok++;
    else {
      const code = (r.reason as { code?: string }).code ?? String(r.reason);
      codes[code] = (codes[code] ?? 0) + 1;
    }
  }
  return { ok, codes };
}

interface Child {
  /** the first line the child printed: the root fingerprint it opened */
  opened: Promise<{ fingerprint: string }>;
  /** send "<token> <csrHex>" and get {ok, codes} */
  redeem(token: string, csrHex: string): Promise<{ ok: number; codes: Record<string, number> }>;
}

/** A CA in a child node process (TypeScript sources via test/ca/fixtures/ts-hooks.mjs). */
function child(dataDir: string, attempts: number): Child {
  const p = spawn(process.execPath, ['--import', path.join(FIXTURES, 'register-ts.mjs'), path.join(FIXTURES, 'ca-child.mjs'), dataDir, TD, String(attempts)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TOLLGATE_TS_CACHE: tsCache },
  });
  let out = '';
  let err = '';
  const lines: Array<(line: string) => void> = [];
  const waiters: Array<Promise<string>> = [0, 1].map(() => new Promise<string>((r) => lines.push(r)));
  let delivered = 0;
  p.stdout.on('data', (d: Buffer | string) => {
    out += d.toString();
    const complete = out.split('\n').slice(0, -1);
    while (delivered < complete.length && delivered < lines.length) lines[delivered](complete[delivered++]);
  });
  p.stderr.on('data', (d: Buffer | string) => (err += d.toString()));
  const exited = new Promise<never>((_, reject) => p.on('close', (code) => reject(new Error(`child exited ${code} after ${JSON.stringify(out)}: ${err}`))));
  exited.catch(() => {});
  const line = (i: number) => Promise.race([waiters[i], exited]).then((l) => JSON.parse(l));
  return {
    opened: line(0),
    redeem: (token, csrHex) => {
      p.stdin.end(`${token} ${csrHex}\n`);
      return line(1);
    },
  };
}

describe('concurrent redemption of one token', () => {
  it('100 at once in one process: exactly one succeeds, the rest are told "already used"', async () => {
    const ca = await open();
    const { token } = await ca.createJoinToken(ID);
    const csrs = await Promise.all(Array.from({ length: 100 }, () => makeCsr()));
    const results = await Promise.allSettled(csrs.map((c) => ca.bootstrap(token, c.der)));
    expect(tally(results)).toEqual({ ok: 1, codes: { token_used: 99 } });
    expect(await ca.listIssued({ spiffeId: ID })).toHaveLength(1);
  });

  it('100 at once across two Authority instances on the same data directory: exactly one', async () => {
    const dataDir = tempDir();
    const a = await open({ dataDir });
    const b = await open({ dataDir });
    const { token } = await a.createJoinToken(ID);
    const csr = (await makeCsr()).der;
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).bootstrap(token, csr)));
    expect(tally(results)).toEqual({ ok: 1, codes: { token_used: 99 } });
    expect(await b.listIssued({ spiffeId: ID })).toHaveLength(1);
  });

  it('two child processes: racing to create one empty CA agree on one root; racing 100 redemptions of a token, exactly one wins', async () => {
    const dataDir = tempDir();
    const kids = [child(dataDir, 50), child(dataDir, 50)];
    const opened = await Promise.all(kids.map((k) => k.opened));
    expect(opened[1].fingerprint).toBe(opened[0].fingerprint);
    const ca = await open({ dataDir });
    expect(ca.rootFingerprint()).toBe(opened[0].fingerprint);

    const { token } = await ca.createJoinToken(ID);
    const csrHex = (await makeCsr()).der.toString('hex');
    const outs = await Promise.all(kids.map((k) => k.redeem(token, csrHex)));
    const ok = outs.reduce((n, o) => n + o.ok, 0);
    const used = outs.reduce((n, o) => n + (o.codes.token_used ?? 0), 0);
    expect({ ok, used }).toEqual({ ok: 1, used: 99 });
    expect(await ca.listIssued({ spiffeId: ID })).toHaveLength(1);
  }, 25_000);
});
