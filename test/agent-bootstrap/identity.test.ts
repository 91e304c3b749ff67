/** AgentIdentity: renewal timing, retries while the CA is down, files. Real CA and gRPC where a network is involved. */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { renewalTime, retryDelay, AgentIdentity, BootstrapError, bootstrap, writeIdentityFiles, readIdentityFiles } from '../../agent-bootstrap/index.js';
import { startControlServer } from '../../control/server.js';
import { startTestControl, openTestCa, tempDir, id } from '../control/harness.js';
import { issue } from './helpers.js';

const MIN = 60_000;

describe('renewal timing (pure)', () => {
  it('renews at half of the lifetime left when obtained, not of a backdated notBefore', () => {
    const obtainedAt = 1_000_000;
    const cert = { notBefore: obtainedAt - MIN, notAfter: obtainedAt + MIN }; // CA backdates by 1 min
    expect(renewalTime(cert, () => 0)).toBe(obtainedAt); // naive half-life: already due
    expect(renewalTime({ ...cert, obtainedAt }, () => 0)).toBe(obtainedAt + 30_000);
    expect(renewalTime({ ...cert, obtainedAt }, () => 1)).toBe(obtainedAt + 30_000 - 0.1 * MIN); // jitter pulls earlier
    expect(renewalTime({ ...cert, obtainedAt }, () => 0, { renewAt: 0.1 })).toBe(obtainedAt + 6000);
  });

  it('backs off exponentially with a cap', () => {
    const mid = () => 0.5; // no jitter
    expect([1, 2, 3, 4].map((n) => retryDelay(n, { initialMs: 100, maxMs: 500 }, mid))).toEqual([100, 200, 400, 500]);
    expect(retryDelay(1, {}, () => 0)).toBe(800);
    expect(retryDelay(1, {}, () => 1)).toBe(1200);
  });
});

describe('AgentIdentity', () => {
  it('keeps retrying after failures without crashing, emitting error only to listeners, then rotates', async () => {
    const t = await openTestCa();
    try {
      const material = await issue(t.ca, id('agent/retry'));
      let calls = 0;
      let secondAttempt!: () => void;
      const secondAttemptStarted = new Promise<void>((r) => (secondAttempt = r));
      const identity = new AgentIdentity(material, {
        now: () => Date.now() + 31 * MIN, // past half of the 1 h lifetime: due at once
        obtainedAt: material.notBefore,
        retry: { initialMs: 20, maxMs: 40 },
        renewFn: async () => {
          calls++;
          if (calls === 2) secondAttempt();
          if (calls <= 3) throw new BootstrapError('unavailable', 'CA down');
          return issue(t.ca, id('agent/retry'));
        },
      });
      // No 'error' listener for the first failure: must not throw (an EventEmitter would).
      identity.start();
      // once the second attempt started, the first failure was handled with no listener attached (no throw)
      await secondAttemptStarted;
      const errors: BootstrapError[] = [];
      identity.on('error', (e: BootstrapError) => errors.push(e));
      const rotated = new Promise<string>((resolve) => identity.once('rotated', (m) => resolve(m.serial)));
      const serial = await rotated;
      identity.stop();
      expect(calls).toBe(4);
      expect(errors.map((e) => e.message)).toEqual(['CA down', 'CA down']); // failures 2 and 3; the first had no listener
      expect(serial).not.toBe(material.serial);
      expect(identity.serial).toBe(serial);
    } finally {
      await t.close();
    }
  });

  it('retries while the CA is unreachable and renews over mTLS once it is back (files rewritten)', async () => {
    const t = await startTestControl();
    const out = tempDir('identity');
    try {
      const { token } = await t.ca.createJoinToken(id('agent/outage'));
      const first = await bootstrap({ server: t.server, token, fingerprint: t.ca.rootFingerprint(), outDir: out.dir });
      const port = t.control.port;
      await t.control.close(100); // the CA's listener goes away

      // Its clock runs 31 min ahead: past half of the 1 h lifetime, so it wants to renew at once.
      const identity = await AgentIdentity.fromDir(out.dir, {
        server: t.server,
        now: () => Date.now() + 31 * MIN,
        retry: { initialMs: 50, maxMs: 200 },
        deadlineMs: 2000,
      });
      const errors: BootstrapError[] = [];
      identity.on('error', (e: BootstrapError) => errors.push(e));
      const rotated = new Promise<void>((resolve) => identity.once('rotated', () => resolve()));
      identity.start();
      const deadline = Date.now() + 10_000;
      while (errors.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(errors.length).toBeGreaterThanOrEqual(2);
      expect(errors[0].code).toBe('unavailable');
      expect(errors[0].message).toMatch(/cannot reach the Tollgate CA/);

      const back = await startControlServer({ authority: t.ca, credentials: t.creds, listen: `127.0.0.1:${port}`, log: { error() {} } });
      try {
        await rotated;
        identity.stop();
        expect(identity.serial).not.toBe(first.serial);
        expect((await readIdentityFiles(out.dir)).serial).toBe(identity.serial);
      } finally {
        await back.close(100);
      }
    } finally {
      out.remove();
      await t.close();
    }
  });

  it('fromDir refuses missing files and a key that does not belong to the certificate', async () => {
    const t = await openTestCa();
    const out = tempDir('files');
    try {
      await expect(AgentIdentity.fromDir(out.dir)).rejects.toThrow(/key\.pem is missing/);
      const a = await issue(t.ca, id('agent/a'));
      const b = await issue(t.ca, id('agent/b'));
      await writeIdentityFiles(out.dir, { ...a, keyPem: b.keyPem });
      await expect(AgentIdentity.fromDir(out.dir)).rejects.toThrow(/private key does not belong to the certificate/);
    } finally {
      out.remove();
      await t.close();
    }
  });

  it('a failed write leaves no temp files and the old key in place', async () => {
    const t = await openTestCa();
    const out = tempDir('files');
    try {
      const a = await issue(t.ca, id('agent/a'));
      await writeIdentityFiles(out.dir, a);
      // A directory where cert.pem should go makes its rename fail after staging.
      fs.rmSync(path.join(out.dir, 'cert.pem'));
      fs.mkdirSync(path.join(out.dir, 'cert.pem'));
      const b = await issue(t.ca, id('agent/a'));
      const err = await writeIdentityFiles(out.dir, b).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BootstrapError);
      expect((err as BootstrapError).code).toBe('files');
      expect(fs.readdirSync(out.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(fs.readFileSync(path.join(out.dir, 'key.pem'), 'utf8')).toBe(a.keyPem);
    } finally {
      out.remove();
      await t.close();
    }
  });
});
