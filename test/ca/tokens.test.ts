/** Join tokens: single use, bound to one identity, expiring, consumed before anything else is checked. */
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { TD, closeAll, expectCaError, makeCsr, manualClock, open, parseCert, chainDer, tempDir } from './helpers.js';
import { x509 } from '../../certs/x509.js';

afterAll(closeAll);

const ID = `spiffe://${TD}/agent/writer`;

describe('join tokens', () => {
  it('have the documented shape and are stored only as a SHA-256 hash', async () => {
    const dataDir = tempDir();
    const ca = await open({ dataDir });
    const { token, expiresAt } = await ca.createJoinToken(ID);
    expect(token).toMatch(/^tgjoin_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice('tgjoin_'.length), 'base64url')).toHaveLength(32);
    expect(expiresAt - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(10 * 60_000);

    const db = new Database(path.join(dataDir, 'tollgate.db'), { readonly: true });
    const rows = db.prepare('SELECT * FROM tokens').all() as Array<Record<string, unknown>>;
    db.close();
    expect(rows).toHaveLength(1);
    expect(rows[0].hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(token.slice(7));
  });

  it('issue for the bound identity only, ignoring what the CSR asks for', async () => {
    const ca = await open();
    const { token } = await ca.createJoinToken(ID);
    const csr = await makeCsr({ subject: 'CN=admin', uris: [`spiffe://${TD}/admin`, 'spiffe://other.org/x'], dns: ['evil.example.com', 'localhost'] });
    const svid = await ca.bootstrap(token, csr.der);
    expect(svid.spiffeId).toBe(ID);
    const leaf = parseCert(chainDer(svid.certChainPem)[0]);
    const names = leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.items;
    expect(names.map((n) => `${n.type}:${n.value}`)).toEqual([`url:${ID}`]);
    expect(leaf.subject).not.toContain('admin');
  });

  it('replay says "already used"', async () => {
    const ca = await open();
    const { token } = await ca.createJoinToken(ID);
    await ca.bootstrap(token, (await makeCsr()).der);
    await expectCaError(ca.bootstrap(token, (await makeCsr()).der), 'token_used', /already used.*tollgate token create/);
  });

  it('expired (injected clock) fails, and is consumed anyway', async () => {
    const clock = manualClock();
    const ca = await open({ now: clock.now, tokenTtlMs: 60_000 });
    const { token, expiresAt } = await ca.createJoinToken(ID);
    expect(expiresAt).toBe(clock.now() + 60_000);
    clock.advance(60_000);
    const e = await expectCaError(ca.bootstrap(token, (await makeCsr()).der), 'token_expired', /expired at .*create a new one/);
    expect(e.message).toContain(new Date(expiresAt).toISOString());
    await expectCaError(ca.bootstrap(token, (await makeCsr()).der), 'token_used');
  });

  it('a per-token TTL overrides the default', async () => {
    const clock = manualClock();
    const ca = await open({ now: clock.now });
    const { token } = await ca.createJoinToken(ID, 5_000);
    clock.advance(4_000);
    await expect(ca.bootstrap(token, (await makeCsr()).der)).resolves.toMatchObject({ spiffeId: ID });
    const late = await ca.createJoinToken(ID, 5_000);
    clock.advance(5_001);
    await expectCaError(ca.bootstrap(late.token, (await makeCsr()).der), 'token_expired');
    await expectCaError(ca.createJoinToken(ID, 0), 'invalid_argument');
    await expectCaError(ca.createJoinToken(ID, 40 * 24 * 3_600_000), 'invalid_argument');
  });

  it('unknown and malformed tokens are refused', async () => {
    const ca = await open();
    const csr = (await makeCsr()).der;
    await expectCaError(ca.bootstrap('tgjoin_' + 'A'.repeat(43), csr), 'token_unknown', /unknown join token/);
    await expectCaError(ca.bootstrap('not-a-token', csr), 'token_unknown', /tgjoin_/);
    await expectCaError(ca.bootstrap('', csr), 'invalid_argument');
    // a token of another CA is unknown here
    const other = await open();
    const { token } = await other.createJoinToken(ID);
    await expectCaError(ca.bootstrap(token, csr), 'token_unknown');
  });

  it('must name a workload ID in the CA trust domain', async () => {
    const ca = await open();
    await expectCaError(ca.createJoinToken('spiffe://other.org/agent/writer'), 'invalid_argument', /other\.org.*only in example\.org/);
    await expectCaError(ca.createJoinToken(`spiffe://${TD}`), 'invalid_argument', /needs a path/);
    await expectCaError(ca.createJoinToken(`spiffe://${TD}/a/../b`), 'invalid_argument');
    await expectCaError(ca.createJoinToken('https://example.org/x'), 'invalid_argument');
    // only canonical IDs: an upper-case trust domain is refused, not folded; the path keeps its case
    await expectCaError(ca.createJoinToken(`spiffe://EXAMPLE.org/agent/Writer`), 'invalid_argument', /upper-case letters/);
    const { token } = await ca.createJoinToken(`spiffe://${TD}/agent/Writer`);
    expect((await ca.bootstrap(token, (await makeCsr()).der)).spiffeId).toBe(`spiffe://${TD}/agent/Writer`);
  });

  it("issues no join token in the gateway's reserved namespace spiffe://<td>/tollgate/", async () => {
    const ca = await open();
    for (const reserved of [`spiffe://${TD}/tollgate/gateway`, `spiffe://${TD}/tollgate/other`, `spiffe://${TD}/tollgate`]) {
      await expectCaError(
        ca.createJoinToken(reserved),
        'permission_denied',
        new RegExp(`namespace spiffe://${TD.replace(/\./g, '\\.')}/tollgate/ is reserved`),
      );
    }
    // a look-alike outside the namespace is an ordinary identity
    expect((await ca.createJoinToken(`spiffe://${TD}/tollgatex/a`)).token).toBeTruthy();
    expect((await ca.createJoinToken(`spiffe://${TD}/agent/tollgate`)).token).toBeTruthy();
  });

  it('a token presented with a bad CSR is consumed anyway', async () => {
    const ca = await open();
    const { token } = await ca.createJoinToken(ID);
    await expectCaError(ca.bootstrap(token, Buffer.from('garbage')), 'invalid_argument', /CSR/);
    await expectCaError(ca.bootstrap(token, (await makeCsr()).der), 'token_used');

    const second = await ca.createJoinToken(ID);
    const der = Buffer.from((await makeCsr()).der);
    der[der.length - 5] ^= 0xff; // break the signature
    await expectCaError(ca.bootstrap(second.token, der), 'bad_csr_signature');
    await expectCaError(ca.bootstrap(second.token, (await makeCsr()).der), 'token_used');
    expect(await ca.listIssued()).toHaveLength(0);
  });
});
