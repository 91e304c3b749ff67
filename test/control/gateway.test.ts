/** startGateway: the composition (CA, gateway SVID, control listener, rotation) in-process. */
import { describe, it, expect } from 'vitest';
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { startGateway, gatewaySpiffeId } from '../../control/gateway.js';
import { parseConfig } from '../../config/load.js';
import { bootstrap } from '../../agent-bootstrap/index.js';
import { validateSvid } from '../../certs/svid.js';
import { pemBlocks } from '../../certs/pem.js';
import { tempDir, TD } from './harness.js';

const config = (control = '127.0.0.1:0') =>
  parseConfig({ trustDomain: TD, serverNames: ['localhost', '127.0.0.1'], listen: { proxy: '127.0.0.1:0', control, metrics: '127.0.0.1:0' } });

function servedSerial(port: number, bundlePem: string, servername = 'localhost'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, ca: bundlePem, ALPNProtocols: ['h2'] }, () => {
      resolve(s.getPeerCertificate().serialNumber.toLowerCase().replace(/^0+/, ''));
      s.destroy();
    });
    s.on('error', reject);
  });
}

describe('startGateway', () => {
  it('opens the CA, serves the identity API with a gateway SVID for serverNames, rotates it on demand', async () => {
    const data = tempDir('gw');
    const gw = await startGateway(config(), { dataDir: data.dir });
    try {
      const creds = gw.credentials();
      expect(creds.spiffeId).toBe(gatewaySpiffeId(TD));
      // A valid server SVID, verified by hostname (localhost and 127.0.0.1 are both in its SANs).
      const v = validateSvid({ chain: pemBlocks(creds.certChainPem), bundle: gw.authority.bundleDer(), now: Date.now(), trustDomain: TD, usage: 'server' });
      expect(v.id.uri).toBe(`spiffe://${TD}/tollgate/gateway`);
      expect(new X509Certificate(pemBlocks(creds.certChainPem)[0]).checkHost('localhost')).toBe('localhost');
      expect(new X509Certificate(pemBlocks(creds.certChainPem)[0]).checkIP('127.0.0.1')).toBe('127.0.0.1');

      const { token } = await gw.authority.createJoinToken(`spiffe://${TD}/agent/a`);
      const m = await bootstrap({ server: `127.0.0.1:${gw.control.port}`, token, fingerprint: gw.authority.rootFingerprint() });
      expect(m.spiffeId).toBe(`spiffe://${TD}/agent/a`);

      const seen: string[] = [];
      gw.onCredentials((c) => seen.push(c.certChainPem));
      const next = await gw.rotateCredentials();
      expect(seen).toEqual([next.certChainPem]);
      const nextSerial = new X509Certificate(pemBlocks(next.certChainPem)[0]).serialNumber.toLowerCase().replace(/^0+/, '');
      expect(await servedSerial(gw.control.port, gw.authority.bundlePem())).toBe(nextSerial);
    } finally {
      await gw.close();
      data.remove();
    }
  });

  it('keeps the CA across restarts (same root) and fails cleanly when the control port is taken', async () => {
    const data = tempDir('gw');
    const first = await startGateway(config(), { dataDir: data.dir });
    const fp = first.authority.rootFingerprint();
    await first.close();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startGateway(config(`127.0.0.1:${port}`), { dataDir: data.dir })).rejects.toThrow(
        /cannot listen on 127.0.0.1:\d+ for the control API \(EADDRINUSE\); another process/,
      );
      const again = await startGateway(config(), { dataDir: data.dir });
      expect(again.authority.rootFingerprint()).toBe(fp);
      await again.close();
    } finally {
      blocker.close();
      data.remove();
    }
  });
});
