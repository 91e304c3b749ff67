/** A `tollgate serve` process in a temp directory, shared by the end-to-end CLI tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { ensureBuilt, start, tollgate, type Running } from './run.js';

export const TD = 'tollgate.test';

export interface ServeFixture {
  work: string;
  dataDir: string;
  serve: Running;
  /** control listener HOST:PORT */
  server: string;
  /** root fingerprint printed by serve */
  fp: string;
  token(spiffeId: string): string;
  stop(): Promise<void>;
}

export async function startServe(): Promise<ServeFixture> {
  ensureBuilt();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-e2e-'));
  const dataDir = path.join(work, 'data');
  const config = path.join(work, 'tollgate.yaml');
  // svidTtl 1m is the CA's minimum; `bootstrap --watch --renew-at 0.05` then renews every ~3 s.
  fs.writeFileSync(
    config,
    `trustDomain: ${TD}\nserverNames: [localhost, 127.0.0.1]\nlisten: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }\nca: { svidTtl: 1m }\n`,
  );
  const serve = start(['serve', '--config', config, '--data-dir', dataDir]);
  const server = (await serve.waitFor(/control\s+(127\.0\.0\.1:\d+)/))[1];
  const fp = (await serve.waitFor(/root\s+(sha256:[0-9a-f]{64})/))[1];
  await serve.waitFor(/npm run demo.*\n/); // the last line of the banner
  return {
    work,
    dataDir,
    serve,
    server,
    fp,
    token(spiffeId) {
      const r = tollgate(['token', 'create', '--spiffe-id', spiffeId, '--data-dir', dataDir, '--ttl', '5m']);
      expect(r.code, r.stderr).toBe(0);
      // Only the token on stdout: scripts capture it with $(...).
      expect(r.stdout).toMatch(/^\S+\n$/);
      expect(r.stderr).toContain(`join token for ${spiffeId}`);
      return r.stdout.trim();
    },
    async stop() {
      const code = await serve.stop('SIGTERM');
      fs.rmSync(work, { recursive: true, force: true });
      expect(code).toBe(0);
      expect(serve.stderr()).toContain('stopped');
    },
  };
}
