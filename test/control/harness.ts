/** The real CA in a temp data directory, and the control server in front of it, for tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openAuthority, type Authority } from '../../ca/authority.js';
import { startControlServer, type ControlServer } from '../../control/server.js';
import type { GatewayCredentials } from '../../ca/api.js';

export const TD = 'tollgate.test';
export const id = (p: string) => `spiffe://${TD}/${p}`;

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tollgate-${prefix}-`));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface TestCa {
  ca: Authority;
  dataDir: string;
  close(): Promise<void>;
}

export async function openTestCa(opts: { svidTtlMs?: number; now?: () => number } = {}): Promise<TestCa> {
  const tmp = tempDir('ca');
  const ca = await openAuthority({ dataDir: tmp.dir, trustDomain: TD, svidTtlMs: opts.svidTtlMs, now: opts.now, revocationRefreshMs: 50 });
  return {
    ca,
    dataDir: tmp.dir,
    async close() {
      await ca.close();
      tmp.remove();
    },
  };
}

export interface TestControl extends TestCa {
  control: ControlServer;
  server: string;
  creds: () => GatewayCredentials;
  setCreds(c: GatewayCredentials): void;
  closeAll(): Promise<void>;
}

export async function startTestControl(opts: { svidTtlMs?: number; now?: () => number } = {}): Promise<TestControl> {
  const t = await openTestCa(opts);
  let creds = await t.ca.issueGatewayCredentials(id('tollgate/gateway'), ['localhost', '127.0.0.1']);
  const control = await startControlServer({ authority: t.ca, credentials: () => creds, listen: '127.0.0.1:0', now: opts.now, log: { error() {} } });
  return {
    ...t,
    control,
    server: `127.0.0.1:${control.port}`,
    creds: () => creds,
    setCreds(c) {
      creds = c;
      control.reloadCredentials();
    },
    async closeAll() {
      await control.close(1000);
      await t.close();
    },
  };
}
