/**
 * End to end through the binary: `serve` (real CA, real gRPC/TLS), `token create` and `ca init` while it
 * runs, `bootstrap` with a pinned fingerprint.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { tollgate } from './run.js';
import { startServe, TD, type ServeFixture } from './fixture.js';
import { readIdentityFiles } from '../../agent-bootstrap/files.js';

let f: ServeFixture;
beforeAll(async () => {
  f = await startServe();
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

describe('tollgate serve + token create + bootstrap', () => {
  it('serve prints the next commands; ca init on the same data dir prints the same fingerprint while it runs', () => {
    expect(f.serve.stdout()).toContain('tollgate token create --spiffe-id');
    expect(f.serve.stdout()).toContain(`tollgate bootstrap --server ${f.server}`);
    const again = tollgate(['ca', 'init', '--data-dir', f.dataDir, '--trust-domain', TD]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(f.fp);
  });

  it('refuses a wrong fingerprint and writes nothing', () => {
    const out = path.join(f.work, 'wrong');
    const r = tollgate([
      'bootstrap',
      '--server',
      f.server,
      '--token',
      f.token(`spiffe://${TD}/agent/wrong`),
      '--fingerprint',
      `sha256:${'00'.repeat(32)}`,
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tollgate: the server's root certificate .* does not match the pinned fingerprint/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('bootstraps with a token created while serve runs; an unknown token is refused on one line', async () => {
    const out = path.join(f.work, 'agent');
    const id = `spiffe://${TD}/agent/cli`;
    const r = tollgate(['bootstrap', '--server', f.server, '--token', f.token(id), '--fingerprint', f.fp, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${id}\n`);
    expect(fs.statSync(path.join(out, 'key.pem')).mode & 0o777).toBe(0o600);
    expect((await readIdentityFiles(out)).spiffeId).toBe(id);

    const bad = tollgate([
      'bootstrap',
      '--server',
      f.server,
      '--token',
      'not-a-real-token-000000000000000000',
      '--fingerprint',
      f.fp,
      '--out',
      path.join(f.work, 'x'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^tollgate: Bootstrap refused by the CA \(UNAUTHENTICATED\): .*token/);
  });
});
