/**
 * `tollgate bootstrap --watch`: rotates the identity files (never half-written), and once the identity is
 * revoked, renewal is refused with PERMISSION_DENIED and the last good files stay.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { start } from './run.js';
import { startServe, TD, type ServeFixture } from './fixture.js';
import { pemBlocks } from '../../certs/pem.js';
import { x509 } from '../../certs/x509.js';
import { readIdentityFiles } from '../../agent-bootstrap/files.js';
import { openAuthority } from '../../ca/authority.js';

let f: ServeFixture;
beforeAll(async () => {
  f = await startServe();
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

/** Each file on its own parses completely (never a half-written file); returns the leaf serial. */
function parseEach(dir: string): string {
  const cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  const key = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
  const bundle = fs.readFileSync(path.join(dir, 'bundle.pem'), 'utf8');
  expect(pemBlocks(cert)).toHaveLength(2);
  expect(pemBlocks(key, 'PRIVATE KEY')).toHaveLength(1);
  expect(pemBlocks(bundle)).toHaveLength(1);
  return new x509.X509Certificate(pemBlocks(cert)[0] as Uint8Array<ArrayBuffer>).serialNumber.toLowerCase();
}

describe('tollgate bootstrap --watch', () => {
  it('rotates the files (always whole); after revocation renewal is refused and the last files stay', async () => {
    const out = path.join(f.work, 'watch');
    const id = `spiffe://${TD}/agent/watch`;
    const watch = start(['bootstrap', '--server', f.server, '--token', f.token(id), '--fingerprint', f.fp, '--out', out, '--watch', '--renew-at', '0.05']);
    try {
      await watch.waitFor(/watching/);
      const serials = new Set([parseEach(out)]);
      const deadline = Date.now() + 15_000;
      while (serials.size < 2 && Date.now() < deadline) {
        serials.add(parseEach(out));
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(serials.size, watch.stderr()).toBeGreaterThanOrEqual(2);
      await watch.waitFor(/renewed: spiffe:\/\/tollgate\.test\/agent\/watch/);
    } finally {
      expect(await watch.stop('SIGTERM')).toBe(0);
    }
    const renewed = await readIdentityFiles(out);
    expect(renewed.spiffeId).toBe(id);

    // Revoke from another process on the same data dir, as an operator would.
    const ca = await openAuthority({ dataDir: f.dataDir, trustDomain: TD });
    try {
      expect(await ca.revokeIdentity(id, 'test')).toBeGreaterThan(0);
    } finally {
      await ca.close();
    }
    // Without --token, --watch resumes from the files; the identity is due (fraction 0.05), so it renews at once.
    const resumed = start(['bootstrap', '--server', f.server, '--out', out, '--watch', '--renew-at', '0.05']);
    try {
      await resumed.waitFor(/resuming spiffe:\/\/tollgate\.test\/agent\/watch/);
      const m = await resumed.waitFor(/renewal failed, retrying: (.*)/);
      expect(m[1]).toMatch(/Renew refused by the CA \(PERMISSION_DENIED\): .*revoked/);
    } finally {
      await resumed.stop('SIGTERM');
    }
    expect((await readIdentityFiles(out)).serial).toBe(renewed.serial);
  });
});
