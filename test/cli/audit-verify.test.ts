import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { baseConfig, id, startE2e, type E2e } from '../e2e/harness.js';
import { mtlsClient, messageSend } from '../fakes/mtls-client.js';
import { ensureBuilt, tollgate } from './run.js';

/**
 * `tollgate audit verify` (the real binary) on the audit file of a real gateway (gateway/tollgate.ts, as
 * `tollgate serve` composes it): OK as written, exit 1 naming the line once a line is edited.
 */
let e: E2e;
let dir: string;
let auditFile: string;

beforeAll(async () => {
  ensureBuilt();
  e = await startE2e(baseConfig());
  dir = e.dir;
  auditFile = path.join(dir, 'audit.log');
  const alice = await e.enroll(id('user/alice'));
  const client = mtlsClient(alice, alice.bundlePem);
  for (let i = 0; i < 6; i++) {
    const r = await client.fetch(`${e.proxyUrl}/a2a/nobody/`, messageSend(i));
    expect(r.status).toBe(404);
    await r.arrayBuffer();
  }
  await client.close();
  await e.tg.close(); // the closing checkpoint, signed with the gateway's SVID
}, 60_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('tollgate audit verify', () => {
  it('verifies the file a gateway wrote against the data dir bundle', () => {
    const r = tollgate(['audit', 'verify', '--data-dir', path.join(dir, 'data'), auditFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/audit\.log: 9 line\(s\), 2 checkpoint\(s\) signed by spiffe:\/\/e2e\.test\/tollgate\/gateway/);
    expect(r.stdout).toContain('OK: chain intact');
  });

  it('exits 1 naming the edited line; --json carries the same', () => {
    const lines = fs.readFileSync(auditFile, 'utf8').split('\n');
    lines[3] = lines[3].replace('"status":404', '"status":200');
    const edited = path.join(dir, 'edited.log');
    fs.writeFileSync(edited, lines.join('\n'));
    const r = tollgate(['audit', 'verify', '--bundle', path.join(dir, 'data', 'bundle.pem'), edited]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('TAMPERED at line 4 (altered)');
    const j = tollgate(['audit', 'verify', '--json', '--bundle', path.join(dir, 'data', 'bundle.pem'), edited]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, problems: [{ line: 4, kind: 'altered' }] });
  });

  it('usage errors: no file, no bundle', () => {
    expect(tollgate(['audit', 'verify']).code).toBe(2);
    const r = tollgate(['audit', 'verify', '--bundle', path.join(dir, 'missing.pem'), auditFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot read the trust bundle');
  });
});
