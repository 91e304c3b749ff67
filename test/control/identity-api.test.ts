/**
 * The identity API end to end: real CA (SQLite in a temp dir), real gRPC over TLS, the agent-bootstrap
 * library as the client.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { startTestControl, tempDir, id, TD, type TestControl } from './harness.js';
import { bootstrap, renew, BootstrapError, newKeyAndCsr, readIdentityFiles } from '../../agent-bootstrap/index.js';
import { callGetRevocations } from '../../agent-bootstrap/client.js';
import { identityClientConstructor, type TrustBundle__Output as TrustBundleResponse } from '../../protocol/identity.js';
import { ERROR_CODE_METADATA_KEY } from '../../protocol/errors.js';
import { mapError, toServiceError } from '../../control/errors.js';
import { CaError } from '../../ca/api.js';
import { CertError } from '../../certs/errors.js';
import { fingerprint, pemBlocks } from '../../certs/pem.js';
import { makeChain } from '../pki.js';

let t: TestControl;
let clockOffset = 0;
beforeAll(async () => {
  t = await startTestControl({ now: () => Date.now() + clockOffset });
});
afterAll(async () => {
  await t.closeAll();
});

/** The Identity methods by name, as grpc-js builds them from identity.proto. */
type RawClient = grpc.Client & Record<string, (...args: any[]) => unknown>;

/** A raw Identity client (no agent-bootstrap) with the given TLS material. */
function rawClient(creds: grpc.ChannelCredentials): RawClient {
  const Ctor = identityClientConstructor();
  // checked by name, not by IP: no IP as the TLS server name (DEP0123)
  return new Ctor(t.server, creds, { 'grpc.use_local_subchannel_pool': 1, 'grpc.ssl_target_name_override': 'localhost' }) as unknown as RawClient;
}

function callRaw<T>(client: RawClient, method: string, req: object): Promise<T> {
  return new Promise((resolve, reject) => client[method](req, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))));
}

async function expectStatus(p: Promise<unknown>, code: grpc.status, details: RegExp, reason?: string): Promise<void> {
  const err = (await p.then(
    () => null,
    (e: unknown) => e,
  )) as grpc.ServiceError | BootstrapError | null;
  expect(err, 'the call should have failed').not.toBeNull();
  if (err instanceof BootstrapError) {
    expect(err.grpcStatus).toBe(grpc.status[code]);
    expect(err.message).toMatch(details);
    if (reason) expect(err.reason).toBe(reason);
  } else {
    expect(err!.code).toBe(code);
    expect(err!.details).toMatch(details);
    if (reason) expect(err!.metadata.get(ERROR_CODE_METADATA_KEY)[0]).toBe(reason);
  }
}

describe('identity API over gRPC + TLS', () => {
  it('bootstrap -> renew -> revoke -> renew refused with PERMISSION_DENIED', async () => {
    const out = tempDir('agent');
    try {
      const { token } = await t.ca.createJoinToken(id('agent/writer'));
      const m = await bootstrap({ server: t.server, token, fingerprint: t.ca.rootFingerprint(), outDir: out.dir });
      expect(m.spiffeId).toBe(id('agent/writer'));
      expect(pemBlocks(m.certChainPem)).toHaveLength(2); // leaf + intermediate
      expect(fingerprint(pemBlocks(m.bundlePem)[0])).toBe(t.ca.rootFingerprint());
      expect(fs.statSync(path.join(out.dir, 'key.pem')).mode & 0o777).toBe(0o600);
      const onDisk = await readIdentityFiles(out.dir);
      expect(onDisk.serial).toBe(m.serial);
      expect((await t.ca.listIssued({ spiffeId: id('agent/writer') })).map((r) => r.serial)).toContain(m.serial);

      const m2 = await renew(t.server, m);
      expect(m2.spiffeId).toBe(m.spiffeId);
      expect(m2.serial).not.toBe(m.serial);
      expect(m2.keyPem).not.toBe(m.keyPem); // a new key every renewal

      await t.ca.revokeIdentity(id('agent/writer'), 'test');
      await expectStatus(renew(t.server, m2), grpc.status.PERMISSION_DENIED, /revoked/, 'revoked');
    } finally {
      out.remove();
    }
  });

  it('a revoked serial cannot renew, but other certificates of the same identity can', async () => {
    const { token } = await t.ca.createJoinToken(id('agent/serial'));
    const a = await bootstrap({ server: t.server, token, fingerprint: t.ca.rootFingerprint() });
    const b = await renew(t.server, a);
    await t.ca.revokeSerial(a.serial, 'key lost');
    await expectStatus(renew(t.server, a), grpc.status.PERMISSION_DENIED, new RegExp(`${a.serial} is revoked`), 'revoked');
    expect((await renew(t.server, b)).spiffeId).toBe(id('agent/serial'));
  });

  it('GetRevocations: the log after a cursor, for SVID holders only; an unknown cursor value is refused', async () => {
    const { token } = await t.ca.createJoinToken(id('agent/reader'));
    const reader = await bootstrap({ server: t.server, token, fingerprint: t.ca.rootFingerprint() });
    const { token: t2 } = await t.ca.createJoinToken(id('agent/victim'));
    const victim = await bootstrap({ server: t.server, token: t2, fingerprint: t.ca.rootFingerprint() });
    const start = (await callGetRevocations(t.server, reader, 0)).cursor;
    await t.ca.revokeSerial(victim.serial, 'test');
    await t.ca.revokeIdentity(id('agent/victim2'), 'test');
    const page = await callGetRevocations(t.server, reader, start);
    expect(page.more).toBe(false);
    expect(page.revocations.map((r) => [r.kind, r.serial, r.spiffeId])).toEqual([
      ['serial', victim.serial, id('agent/victim')],
      ['identity', '', id('agent/victim2')],
    ]);
    expect(page.revocations[0].notAfterUnixMs).toBe(victim.notAfter);
    expect(page.cursor).toBe(page.revocations[1].seq);
    expect((await callGetRevocations(t.server, reader, page.cursor)).revocations).toEqual([]);
    // anonymous: nothing
    const anon = rawClient(grpc.credentials.createSsl(Buffer.from(t.ca.bundlePem())));
    try {
      await expectStatus(callRaw(anon, 'GetRevocations', { after: 0 }), grpc.status.UNAUTHENTICATED, /certificate/);
    } finally {
      anon.close();
    }
    await expectStatus(callGetRevocations(t.server, reader, -1), grpc.status.INVALID_ARGUMENT, /non-negative integer/);
  });

  it('refuses a wrong fingerprint before sending the token, and writes nothing', async () => {
    const out = tempDir('agent');
    const target = path.join(out.dir, 'identity');
    try {
      const { token } = await t.ca.createJoinToken(id('agent/pinned'));
      const wrong = `sha256:${'ab'.repeat(32)}`;
      const err = await bootstrap({ server: t.server, token, fingerprint: wrong, outDir: target }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BootstrapError);
      expect((err as BootstrapError).code).toBe('fingerprint_mismatch');
      expect((err as BootstrapError).message).toContain('does not match the pinned fingerprint');
      expect(fs.existsSync(target)).toBe(false);
      // The token never left the agent: it still works.
      const m = await bootstrap({ server: t.server, token, fingerprint: t.ca.rootFingerprint() });
      expect(m.spiffeId).toBe(id('agent/pinned'));
    } finally {
      out.remove();
    }
  });

  it('maps unknown, used and expired tokens to UNAUTHENTICATED with the CA reason', async () => {
    const fp = t.ca.rootFingerprint();
    await expectStatus(bootstrap({ server: t.server, token: 'tg_' + 'x'.repeat(40), fingerprint: fp }), grpc.status.UNAUTHENTICATED, /token/, undefined);

    const { token } = await t.ca.createJoinToken(id('agent/once'));
    await bootstrap({ server: t.server, token, fingerprint: fp });
    await expectStatus(bootstrap({ server: t.server, token, fingerprint: fp }), grpc.status.UNAUTHENTICATED, /already used/, 'token_used');

    const short = await t.ca.createJoinToken(id('agent/late'), 1000);
    clockOffset = 5000;
    try {
      await expectStatus(bootstrap({ server: t.server, token: short.token, fingerprint: fp }), grpc.status.UNAUTHENTICATED, /expired/, 'token_expired');
    } finally {
      clockOffset = 0;
    }
  });

  it('answers INVALID_ARGUMENT for an empty or unparsable CSR', async () => {
    const c = rawClient(grpc.credentials.createSsl(Buffer.from(t.ca.bundlePem())));
    try {
      await expectStatus(callRaw(c, 'Bootstrap', { token: 'abc', csr: Buffer.alloc(0) }), grpc.status.INVALID_ARGUMENT, /csr is empty/, 'invalid_argument');
      const { token } = await t.ca.createJoinToken(id('agent/badcsr'));
      await expectStatus(callRaw(c, 'Bootstrap', { token, csr: Buffer.from('not a csr') }), grpc.status.INVALID_ARGUMENT, /CSR|csr/);
    } finally {
      c.close();
    }
  });

  it('Renew without a client certificate is UNAUTHENTICATED; with a certificate from another CA too', async () => {
    const { csrDer } = await newKeyAndCsr();
    const anon = rawClient(grpc.credentials.createSsl(Buffer.from(t.ca.bundlePem())));
    try {
      await expectStatus(callRaw(anon, 'Renew', { csr: csrDer }), grpc.status.UNAUTHENTICATED, /no client certificate was presented/, 'unauthenticated');
    } finally {
      anon.close();
    }
    const foreign = await makeChain({ uris: [id('agent/forged')] }, TD);
    const forged = rawClient(grpc.credentials.createSsl(Buffer.from(t.ca.bundlePem()), Buffer.from(foreign.leaf.keyPem), Buffer.from(foreign.chainPem)));
    try {
      await expectStatus(callRaw(forged, 'Renew', { csr: csrDer }), grpc.status.UNAUTHENTICATED, /client certificate rejected: .*does not chain/, 'svid_chain');
    } finally {
      forged.close();
    }
  });

  it('GetTrustBundle works without a client certificate', async () => {
    const c = rawClient(grpc.credentials.createSsl(Buffer.from(t.ca.bundlePem())));
    try {
      const b = await callRaw<TrustBundleResponse>(c, 'GetTrustBundle', {});
      expect(b.trustDomain).toBe(TD);
      expect(b.fingerprint).toBe(t.ca.rootFingerprint());
      expect(fingerprint(pemBlocks(b.bundlePem)[0])).toBe(t.ca.rootFingerprint());
    } finally {
      c.close();
    }
  });

  it('reloadCredentials: an open channel keeps working, new connections get the new gateway certificate', async () => {
    const c = rawClient(grpc.credentials.createSsl(Buffer.from(t.ca.bundlePem())));
    try {
      await callRaw(c, 'GetTrustBundle', {});
      const before = t.creds();
      const next = await t.ca.issueGatewayCredentials(id('tollgate/gateway'), ['localhost', '127.0.0.1']);
      t.setCreds(next);
      await callRaw(c, 'GetTrustBundle', {}); // same HTTP/2 connection
      const serial = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: t.control.port, ca: t.ca.bundlePem(), ALPNProtocols: ['h2'] }, () => {
          resolve(s.getPeerCertificate().serialNumber.toLowerCase().replace(/^0+/, ''));
          s.destroy();
        });
        s.on('error', reject);
      });
      const leafSerial = (pem: string) => new X509Certificate(pemBlocks(pem)[0]).serialNumber.toLowerCase().replace(/^0+/, '');
      expect(serial).toBe(leafSerial(next.certChainPem));
      expect(serial).not.toBe(leafSerial(before.certChainPem));
    } finally {
      c.close();
    }
  });
});

describe('control/errors mapping', () => {
  it('maps every CA error code to one status, hiding storage and internal details', () => {
    expect(mapError(new CaError('bad_csr_signature', 'x')).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(mapError(new CaError('token_unknown', 'x')).code).toBe(grpc.status.UNAUTHENTICATED);
    expect(mapError(new CaError('unauthenticated', 'x')).code).toBe(grpc.status.UNAUTHENTICATED);
    expect(mapError(new CaError('permission_denied', 'x')).code).toBe(grpc.status.PERMISSION_DENIED);
    const storage = mapError(new CaError('storage', 'SQLITE_BUSY at /secret/path'));
    expect(storage).toMatchObject({ code: grpc.status.UNAVAILABLE, hidden: true });
    expect(storage.message).not.toContain('/secret/path');
    expect(mapError(new CaError('internal', 'stack details'))).toMatchObject({ code: grpc.status.INTERNAL, message: 'internal CA error' });
    expect(mapError(new CertError('svid_expired', 'expired')).code).toBe(grpc.status.UNAUTHENTICATED);
    const unknown = toServiceError(new Error('boom with secrets'));
    expect(unknown.code).toBe(grpc.status.INTERNAL);
    expect(unknown.details).toBe('internal error');
  });
});
