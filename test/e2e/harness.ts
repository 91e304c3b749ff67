/**
 * The whole gateway as `tollgate serve` runs it (gateway/tollgate.ts), in-process, on free ports, with
 * identities enrolled the way an operator does it: a join token from the CA, then agent-bootstrap over gRPC.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTollgate, type Tollgate } from '../../gateway/tollgate.js';
import { bootstrap } from '../../agent-bootstrap/index.js';
import type { SvidMaterial } from '../../agent-bootstrap/material.js';

export const TD = 'e2e.test';
export const id = (p: string) => `spiffe://${TD}/${p}`;

export interface E2e {
  tg: Tollgate;
  dir: string;
  configPath: string;
  control: string;
  proxyUrl: string;
  metricsUrl: string;
  enroll(spiffeId: string): Promise<SvidMaterial>;
  /** write an identity as `tollgate bootstrap --out` does (for `tollgate ctl --cert-dir`) */
  certDir(m: SvidMaterial): string;
  close(): Promise<void>;
}

export function baseConfig(extra = ''): string {
  return `trustDomain: ${TD}
listen: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }
admins: [${id('admin/ops')}]
audit: { path: AUDIT }
${extra}`;
}

export async function startE2e(configText: string, opts: { now?: () => number } = {}): Promise<E2e> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-e2e-'));
  const configPath = path.join(dir, 'tollgate.yaml');
  fs.writeFileSync(configPath, configText.replace('AUDIT', path.join(dir, 'audit.log')));
  const tg = await startTollgate({ configPath, dataDir: path.join(dir, 'data'), tickMs: 200, now: opts.now });
  const control = `127.0.0.1:${tg.ports.control}`;
  const fingerprint = tg.gateway.authority.rootFingerprint();
  return {
    tg,
    dir,
    configPath,
    control,
    proxyUrl: `https://127.0.0.1:${tg.ports.proxy}`,
    metricsUrl: `http://127.0.0.1:${tg.ports.metrics}`,
    async enroll(spiffeId) {
      const { token } = await tg.gateway.authority.createJoinToken(spiffeId);
      return bootstrap({ server: control, token, fingerprint });
    },
    certDir(m) {
      const d = fs.mkdtempSync(path.join(dir, 'id-'));
      fs.writeFileSync(path.join(d, 'key.pem'), m.keyPem, { mode: 0o600 });
      fs.writeFileSync(path.join(d, 'cert.pem'), m.certChainPem);
      fs.writeFileSync(path.join(d, 'bundle.pem'), m.bundlePem);
      return d;
    },
    async close() {
      await tg.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
