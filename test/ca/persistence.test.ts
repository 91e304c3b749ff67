/** State in the data directory: survives restarts, written safely, and fails clearly when damaged. */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { openAuthority } from '../../ca/authority.js';
import { CaError } from '../../ca/api.js';
import { fileStamp } from '../../ca/keys/file-store.js';
import { TD, closeAll, expectCaError, makeCsr, open, tempDir } from './helpers.js';

afterAll(closeAll);

const ID = `spiffe://${TD}/agent/writer`;

const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('restart', () => {
  it('keeps the CA, unused tokens, issued records and revocations', async () => {
    const dataDir = tempDir();
    const first = await openAuthority({ dataDir, trustDomain: TD });
    const fp = first.rootFingerprint();
    const interEnd = first.intermediateNotAfter();
    const unused = await first.createJoinToken(ID);
    const used = await first.createJoinToken(ID);
    const a = await first.bootstrap(used.token, (await makeCsr()).der);
    const { token: t2 } = await first.createJoinToken(`spiffe://${TD}/agent/banned`);
    const b = await first.bootstrap(t2, (await makeCsr()).der);
    const { token: t3 } = await first.createJoinToken(`spiffe://${TD}/agent/other`);
    const c = await first.bootstrap(t3, (await makeCsr()).der);
    await first.revokeIdentity(`spiffe://${TD}/agent/banned`, 'compromised');
    await first.revokeSerial(c.serial);
    await first.close();

    const again = await open({ dataDir });
    expect(again.rootFingerprint()).toBe(fp);
    expect(again.intermediateNotAfter()).toBe(interEnd); // the same intermediate, not a new one
    expect(again.bundlePem()).toBe(a.bundlePem);
    expect((await again.listIssued()).map((r) => r.serial).sort()).toEqual([a.serial, b.serial, c.serial].sort());
    expect(again.isRevoked(b.serial, `spiffe://${TD}/agent/banned`)).toBe(true);
    expect(again.isRevoked(c.serial, `spiffe://${TD}/agent/other`)).toBe(true);
    expect(again.isRevoked(a.serial, ID)).toBe(false);
    expect((await again.listIssued({ spiffeId: `spiffe://${TD}/agent/banned` }))[0].revoked).toBe(true);
    await expectCaError(again.bootstrap(used.token, (await makeCsr()).der), 'token_used');
    const svid = await again.bootstrap(unused.token, (await makeCsr()).der);
    expect(svid.spiffeId).toBe(ID);
    // the banned identity stays banned
    await expectCaError(again.createJoinToken(`spiffe://${TD}/agent/banned`), 'revoked');
  });

  it('a schema version 1 database (before tokens.serial) is migrated and keeps its tokens, certificates and revocations', async () => {
    const dataDir = tempDir();
    const db = path.join(dataDir, 'tollgate.db');
    const first = await openAuthority({ dataDir, trustDomain: TD });
    const unused = await first.createJoinToken(ID);
    const used = await first.createJoinToken(ID);
    const a = await first.bootstrap(used.token, (await makeCsr()).der);
    await first.revokeIdentity(`spiffe://${TD}/agent/banned`, 'compromised');
    await first.close();
    // turn it into exactly the version 1 layout with the real sqlite3 CLI
    const sql = (q: string) => {
      const r = spawnSync('sqlite3', [db, q], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    sql("ALTER TABLE tokens DROP COLUMN serial; UPDATE meta SET value = '1' WHERE key = 'schema_version';");
    expect(sql("SELECT count(*) FROM pragma_table_info('tokens') WHERE name = 'serial'")).toBe('0');

    const again = await open({ dataDir });
    expect(sql("SELECT value FROM meta WHERE key = 'schema_version'")).toBe('2');
    expect((await again.listIssued({ spiffeId: ID })).map((r) => r.serial)).toContain(a.serial);
    await expectCaError(again.bootstrap(used.token, (await makeCsr()).der), 'token_used');
    await expectCaError(again.createJoinToken(`spiffe://${TD}/agent/banned`), 'revoked');
    const b = await again.bootstrap(unused.token, (await makeCsr()).der);
    expect(sql(`SELECT serial FROM tokens WHERE serial IS NOT NULL`)).toBe(b.serial);
    // a version this Tollgate does not know is refused, naming the file
    await again.close();
    sql("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    const e = await expectCaError(openAuthority({ dataDir, trustDomain: TD }), 'storage', /schema version 99/);
    expect(e.message).toContain(db);
  });

  it('a database file replaced while open: writes are refused (naming the file) until the original is back', async () => {
    const dataDir = tempDir();
    const db = path.join(dataDir, 'tollgate.db');
    const lost: string[] = [];
    let restored = 0;
    const ca = await open({ dataDir, revocationRefreshMs: 20, events: { onStoreLost: (e) => lost.push(e.message), onStoreRestored: () => restored++ } });
    const { token } = await ca.createJoinToken(ID);
    fs.renameSync(db, `${db}.aside`);
    fs.copyFileSync(`${db}.aside`, db); // same bytes, another file: writes to the open one would be lost
    await expectCaError(ca.createJoinToken(ID), 'storage', /replaced by another file/);
    await expectCaError(ca.bootstrap(token, (await makeCsr()).der), 'storage', /replaced/);
    await expectCaError(ca.revokeIdentity(ID), 'storage', /replaced/);
    expect(lost).toHaveLength(1); // reported once, not per call
    expect(lost[0]).toContain(db);
    fs.rmSync(db);
    fs.renameSync(`${db}.aside`, db);
    // the periodic check notices it back (poll: it runs every 20 ms)
    const deadline = Date.now() + 5000;
    while (restored === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(restored).toBe(1);
    expect((await ca.bootstrap(token, (await makeCsr()).der)).spiffeId).toBe(ID); // the token was never consumed
  });

  it('refuses to open with another trust domain', async () => {
    const dataDir = tempDir();
    await (await openAuthority({ dataDir, trustDomain: TD })).close();
    const e = await expectCaError(openAuthority({ dataDir, trustDomain: 'other.org' }), 'invalid_argument', /example\.org.*not "other\.org"/);
    expect(e.message).toContain(dataDir);
    // and the refusal did not damage anything
    const ok = await open({ dataDir });
    expect(ok.trustDomain).toBe(TD);
  });

  it('two instances opening one empty directory agree on one root', async () => {
    const dataDir = tempDir();
    const [x, y] = await Promise.all([open({ dataDir }), open({ dataDir })]);
    expect(x.rootFingerprint()).toBe(y.rootFingerprint());
  });
});

describe('files on disk', () => {
  it('data dir 0700, key files 0600, database owner-only, no temp files left', async () => {
    const dataDir = path.join(tempDir(), 'nested', 'ca');
    const ca = await open({ dataDir });
    await ca.issueGatewayCredentials(`spiffe://${TD}/gateway`, ['localhost']);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(path.join(dataDir, 'root-ca.pem'))).toBe(0o600);
    expect(mode(path.join(dataDir, 'intermediates'))).toBe(0o700);
    const inters = fs.readdirSync(path.join(dataDir, 'intermediates'));
    expect(inters).toHaveLength(1);
    expect(mode(path.join(dataDir, 'intermediates', inters[0]))).toBe(0o600);
    expect(mode(path.join(dataDir, 'tollgate.db'))).toBe(0o600);
    expect(fs.readFileSync(path.join(dataDir, 'bundle.pem'), 'utf8')).toBe(ca.bundlePem());
    const all = fs.readdirSync(dataDir, { recursive: true }) as string[];
    expect(all.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(fs.readFileSync(path.join(dataDir, 'root-ca.pem'), 'utf8')).toMatch(/BEGIN CERTIFICATE[\s\S]*BEGIN PRIVATE KEY/);
  });

  it("an intermediate's file is named after its notBefore, as toISOString() without - : and milliseconds", async () => {
    const iso = (ms: number) =>
      new Date(ms)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
    for (const ms of [
      0,
      1,
      999,
      86_399_999,
      Date.UTC(2026, 10, 30, 12, 0, 0, 500),
      Date.UTC(2000, 1, 29, 23, 59, 59),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.now(),
    ])
      expect(fileStamp(ms)).toBe(iso(ms));
    const dataDir = tempDir();
    const ca = await openAuthority({ dataDir, trustDomain: TD });
    const [name] = fs.readdirSync(path.join(dataDir, 'intermediates'));
    const cert = new X509Certificate(fs.readFileSync(path.join(dataDir, 'intermediates', name)));
    expect(name).toMatch(new RegExp(`^${fileStamp(new Date(cert.validFrom).getTime())}-[0-9a-f]+\\.pem$`));
    await ca.close();
  });

  it('a corrupt root key file -> one CaError("storage") naming the file', async () => {
    const dataDir = tempDir();
    await (await openAuthority({ dataDir, trustDomain: TD })).close();
    const file = path.join(dataDir, 'root-ca.pem');
    const text = fs.readFileSync(file, 'utf8');
    // damage the key block only
    const keyStart = text.indexOf('-----BEGIN PRIVATE KEY-----') + 40;
    fs.writeFileSync(file, text.slice(0, keyStart) + 'AAAA' + text.slice(keyStart + 4));
    const e = await expectCaError(openAuthority({ dataDir, trustDomain: TD }), 'storage', /corrupt/);
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/restore it from a backup/);
    expect(e.stack).toBeDefined();
    // truncated file
    fs.writeFileSync(file, text.slice(0, 200));
    const e2 = await expectCaError(openAuthority({ dataDir, trustDomain: TD }), 'storage');
    expect(e2.message).toContain(file);
    // the other file kept: no half-written replacement appeared
    expect(fs.readdirSync(dataDir).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('a root key that does not match its certificate -> storage', async () => {
    const one = tempDir();
    const two = tempDir();
    await (await openAuthority({ dataDir: one, trustDomain: TD })).close();
    await (await openAuthority({ dataDir: two, trustDomain: TD })).close();
    const a = fs.readFileSync(path.join(one, 'root-ca.pem'), 'utf8');
    const b = fs.readFileSync(path.join(two, 'root-ca.pem'), 'utf8');
    const mixed = a.slice(0, a.indexOf('-----BEGIN PRIVATE KEY-----')) + b.slice(b.indexOf('-----BEGIN PRIVATE KEY-----'));
    fs.writeFileSync(path.join(one, 'root-ca.pem'), mixed);
    await expectCaError(openAuthority({ dataDir: one, trustDomain: TD }), 'storage', /does not match the certificate/);
  });

  it('a corrupt intermediate file -> storage naming it', async () => {
    const dataDir = tempDir();
    await (await openAuthority({ dataDir, trustDomain: TD })).close();
    const dir = path.join(dataDir, 'intermediates');
    const file = path.join(dir, fs.readdirSync(dir)[0]);
    fs.writeFileSync(file, 'not pem at all');
    const e = await expectCaError(openAuthority({ dataDir, trustDomain: TD }), 'storage');
    expect(e.message).toContain(file);
  });

  it('a missing root with an existing database is refused, not silently replaced', async () => {
    const dataDir = tempDir();
    const ca = await openAuthority({ dataDir, trustDomain: TD });
    const fp = ca.rootFingerprint();
    await ca.close();
    fs.rmSync(path.join(dataDir, 'root-ca.pem'));
    const e = await expectCaError(openAuthority({ dataDir, trustDomain: TD }), 'storage', /missing/);
    expect(e.message).toContain(fp);
    expect(fs.existsSync(path.join(dataDir, 'root-ca.pem'))).toBe(false);
  });

  it('a data dir under a regular file -> storage error naming the path (ENOTDIR)', async () => {
    const file = path.join(tempDir(), 'plain-file');
    fs.writeFileSync(file, 'x');
    const dataDir = path.join(file, 'ca');
    const e = await expectCaError(openAuthority({ dataDir, trustDomain: TD }), 'storage', /ENOTDIR/);
    expect(e.message).toContain(dataDir);
    expect(e.message).toMatch(/choose another data directory/);
    // a data dir that IS a regular file
    await expectCaError(openAuthority({ dataDir: file, trustDomain: TD }), 'storage', /EEXIST|not a directory/);
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable data dir -> storage error (non-root only)', async () => {
    const dataDir = tempDir();
    await (await openAuthority({ dataDir, trustDomain: TD })).close();
    fs.chmodSync(dataDir, 0o000);
    try {
      await expectCaError(openAuthority({ dataDir, trustDomain: TD }), 'storage', /EACCES/);
    } finally {
      fs.chmodSync(dataDir, 0o700);
    }
  });

  it('a corrupt database -> storage naming it', async () => {
    const dataDir = tempDir();
    await (await openAuthority({ dataDir, trustDomain: TD })).close();
    const db = path.join(dataDir, 'tollgate.db');
    for (const f of ['-wal', '-shm']) fs.rmSync(db + f, { force: true });
    fs.writeFileSync(db, Buffer.alloc(8192, 7));
    const e = await expectCaError(openAuthority({ dataDir, trustDomain: TD }), 'storage');
    expect(e.message).toContain(db);
  });

  it('bad options are refused with invalid_argument', async () => {
    await expectCaError(openAuthority({ dataDir: tempDir(), trustDomain: 'Bad Domain' }), 'invalid_argument', /trust domain/);
    await expectCaError(openAuthority({ dataDir: '', trustDomain: TD }), 'invalid_argument', /data directory/);
    await expectCaError(
      openAuthority({ dataDir: tempDir(), trustDomain: TD, svidTtlMs: 3 * 3_600_000, intermediateTtlMs: 6 * 3_600_000 }),
      'invalid_argument',
      /3× svidTtl/,
    );
    await expectCaError(openAuthority({ dataDir: tempDir(), trustDomain: TD, svidTtlMs: -1 }), 'invalid_argument');
    expect(new CaError('storage', 'x').code).toBe('storage');
  });
});
