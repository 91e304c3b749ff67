import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { baseConfig, id, startE2e, type E2e } from './harness.js';
import { mtlsClient } from '../fakes/mtls-client.js';
import { CARD_SIGNING_PURPOSE } from '../../proxy/index.js';

/**
 * The gateway as `tollgate serve` runs it signs cards with the Ed25519 key whose seed is derived from its CA
 * root: the key set it publishes is the one any replica holding that root would publish.
 */
describe('card-signing key of the running gateway', () => {
  let e: E2e;
  beforeAll(async () => {
    e = await startE2e(baseConfig());
  }, 60_000);
  afterAll(async () => {
    await e?.close();
  });

  it('publishes the key derived from the CA root for "card-signing", at /.well-known/jwks.json', async () => {
    const seed = e.tg.gateway.authority.deriveSecret(CARD_SIGNING_PURPOSE);
    // RFC 8410: an Ed25519 private key is the 32-byte seed behind this fixed PKCS#8 prefix
    const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    const expected = await exportJWK(createPublicKey(key));
    const c = mtlsClient(await e.enroll(id('user/alice')), e.tg.gateway.authority.bundlePem());
    try {
      const r = await c.fetch(`${e.proxyUrl}/.well-known/jwks.json`);
      expect(r.status).toBe(200);
      const { keys } = (await r.json()) as { keys: Record<string, string>[] };
      expect(keys).toEqual([{ ...expected, kid: await calculateJwkThumbprint(expected), alg: 'EdDSA', use: 'sig' }]);
    } finally {
      await c.close();
    }
  });
});
