/** The `tollgate` binary: help, usage errors, `ca init`. */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt, tollgate } from './run.js';

beforeAll(() => ensureBuilt(), 120_000);

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-cli-'));
}

/** An error is one line on stderr in the documented shape, with no stack trace. */
function expectOneLineError(stderr: string, re: RegExp): void {
  const lines = stderr
    .trimEnd()
    .split('\n')
    .filter((l) => l.length > 0);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^tollgate: .+; .+/);
  expect(lines[0]).toMatch(re);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('tollgate CLI', () => {
  it('prints help for the program and for every command', () => {
    const main = tollgate(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('Usage: tollgate <command>');
    for (const cmd of [['ca', 'init'], ['token', 'create'], ['serve'], ['bootstrap']]) {
      const r = tollgate([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: tollgate ${cmd.join(' ')}`);
    }
  });

  it('reports usage errors on one line with exit code 2', () => {
    const unknownOpt = tollgate(['ca', 'init', '--nope']);
    expect(unknownOpt.code).toBe(2);
    expectOneLineError(unknownOpt.stderr, /unknown option '--nope'.*tollgate ca init --help/);

    const unknownCmd = tollgate(['frobnicate']);
    expect(unknownCmd.code).toBe(2);
    expectOneLineError(unknownCmd.stderr, /unknown command "frobnicate"/);

    const missing = tollgate(['token', 'create']);
    expect(missing.code).toBe(2);
    expectOneLineError(missing.stderr, /--spiffe-id is required/);

    const badTtl = tollgate(['token', 'create', '--spiffe-id', 'spiffe://tollgate.local/agent/a', '--ttl', 'soon']);
    expect(badTtl.code).toBe(2);
    expectOneLineError(badTtl.stderr, /--ttl "soon" is not a duration/);

    const badFp = tollgate(['bootstrap', '--server', '127.0.0.1:1', '--token', 't', '--fingerprint', 'md5:00', '--out', tmp()]);
    expect(badFp.code).toBe(1);
    expectOneLineError(badFp.stderr, /invalid fingerprint "md5:00"/);
  });

  it('ca init is idempotent: same fingerprint twice, and refuses another trust domain on the same data dir', () => {
    const dir = tmp();
    try {
      const a = tollgate(['ca', 'init', '--data-dir', dir, '--trust-domain', 'example.test']);
      expect(a.code, a.stderr).toBe(0);
      expect(a.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
      const b = tollgate(['ca', 'init', '--data-dir', dir, '--trust-domain', 'example.test']);
      expect(b.code).toBe(0);
      expect(b.stdout).toBe(a.stdout);
      const other = tollgate(['ca', 'init', '--data-dir', dir, '--trust-domain', 'other.test']);
      expect(other.code).toBe(1);
      expectOneLineError(other.stderr, /belongs to trust domain "example.test"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("token create refuses the gateway's reserved namespace with one clear line", () => {
    const dir = tmp();
    try {
      expect(tollgate(['ca', 'init', '--data-dir', dir, '--trust-domain', 'example.test']).code).toBe(0);
      const r = tollgate(['token', 'create', '--spiffe-id', 'spiffe://example.test/tollgate/gateway', '--data-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expectOneLineError(r.stderr, /spiffe:\/\/example\.test\/tollgate\/ is reserved for the gateway/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('token create refuses a data dir without a CA instead of creating one', () => {
    const dir = tmp();
    try {
      const r = tollgate(['token', 'create', '--spiffe-id', 'spiffe://tollgate.local/agent/a', '--data-dir', path.join(dir, 'none')]);
      expect(r.code).toBe(1);
      expectOneLineError(r.stderr, /no CA in .*tollgate ca init/);
      expect(r.stdout).toBe('');
      expect(fs.existsSync(path.join(dir, 'none'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
