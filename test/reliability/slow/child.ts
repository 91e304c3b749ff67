/**
 * The slow red-team cases run `tollgate serve` as a child process (so its RSS is its own and kill -9 is
 * real), with a minimal mTLS upstream "echo" in the test process. Identities are enrolled the operator's
 * way: the admin's token with `tollgate token create --data-dir`, every other one with `tollgate ctl token
 * create` (the CLI code, in-process) and agent-bootstrap over gRPC.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { bootstrap } from '../../../agent-bootstrap/index.js';
import type { SvidMaterial } from '../../../agent-bootstrap/material.js';
import { runCtl } from '../../../cli/ctl/index.js';
import { ensureBuilt, start, tollgate, type Running } from '../../cli/run.js';

export const TD = 'rt.test';
export const sid = (p: string) => `spiffe://${TD}/${p}`;

export interface ChildGateway {
  work: string;
  dataDir: string;
  serve: Running;
  pid: number;
  proxyPort: number;
  control: string;
  fp: string;
  upstreamPort: number;
  /** a token made with `tollgate ctl token create` against the running gateway */
  token(spiffeId: string): Promise<string>;
  enroll(spiffeId: string): Promise<SvidMaterial>;
  ctl(...args: string[]): Promise<{ code: number; out: string; err: string }>;
  /** VmRSS of the gateway process, in MB */
  rssMb(): number;
  /** start the echo upstream (a no-record mTLS JSON answer); started by startChild unless noUpstream */
  startUpstream(): Promise<void>;
  /** SIGTERM and wait, or SIGKILL */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** start `tollgate serve` again on the same data dir and config (after a kill) */
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface ChildOptions {
  /** extra YAML appended to the config */
  extra?: string;
  /** use this data dir (e.g. a tmpfs mount) */
  dataDir?: string;
  noUpstream?: boolean;
}

export async function startChild(opts: ChildOptions = {}): Promise<ChildGateway> {
  ensureBuilt();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-redteam-'));
  const dataDir = opts.dataDir ?? path.join(work, 'data');
  const configPath = path.join(work, 'tollgate.yaml');
  const upstreamPort = await freePort();
  fs.writeFileSync(
    configPath,
    `trustDomain: ${TD}
listen: { proxy: 127.0.0.1:0, control: 127.0.0.1:0, metrics: 127.0.0.1:0 }
admins: [${sid('admin/ops')}]
audit: { path: ${path.join(work, 'audit.log')} }
agents:
  echo: { url: "https://127.0.0.1:${upstreamPort}", id: "${sid('agent/echo')}" }
policy:
  - { from: "${sid('user/*')}", to: [echo] }
${opts.extra ?? ''}
`,
  );
  let serve!: Running;
  let proxyPort = 0;
  let control = '';
  let fp = '';
  const launch = async () => {
    serve = start(['serve', '--config', configPath, '--data-dir', dataDir]);
    proxyPort = Number((await serve.waitFor(/proxy\s+https:\/\/127\.0\.0\.1:(\d+)/, 30_000))[1]);
    control = (await serve.waitFor(/control\s+(127\.0\.0\.1:\d+)/))[1];
    fp = (await serve.waitFor(/root\s+(sha256:[0-9a-f]{64})/))[1];
    await serve.waitFor(/npm run demo.*\n/);
  };
  await launch();

  const t = tollgate(['token', 'create', '--spiffe-id', sid('admin/ops'), '--data-dir', dataDir, '--config', configPath]);
  if (t.code !== 0) throw new Error(`token create failed: ${t.stderr}`);
  const admin = await bootstrap({ server: control, token: t.stdout.trim(), fingerprint: fp });
  const adminDir = path.join(work, 'admin-id');
  fs.mkdirSync(adminDir);
  fs.writeFileSync(path.join(adminDir, 'key.pem'), admin.keyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(adminDir, 'cert.pem'), admin.certChainPem);
  fs.writeFileSync(path.join(adminDir, 'bundle.pem'), admin.bundlePem);

  let upstream: https.Server | undefined;
  const g: ChildGateway = {
    work,
    dataDir,
    get serve() {
      return serve;
    },
    get pid() {
      return serve.child.pid!;
    },
    get proxyPort() {
      return proxyPort;
    },
    get control() {
      return control;
    },
    fp,
    upstreamPort,
    async ctl(...args) {
      let out = '';
      let err = '';
      const code = await runCtl([...args, '--server', control, '--cert-dir', adminDir], { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
      return { code, out, err };
    },
    async token(spiffeId) {
      const r = await g.ctl('token', 'create', '--spiffe-id', spiffeId);
      if (r.code !== 0) throw new Error(`ctl token create: ${r.err}`);
      return r.out.trim();
    },
    async enroll(spiffeId) {
      return bootstrap({ server: control, token: await g.token(spiffeId), fingerprint: fp });
    },
    rssMb() {
      const m = fs.readFileSync(`/proc/${serve.child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)\s+kB/);
      return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
    },
    async startUpstream() {
      const echo = await g.enroll(sid('agent/echo'));
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        result: { kind: 'message', role: 'agent', messageId: 'm-1', parts: [{ kind: 'text', text: 'ok' }] },
      });
      upstream = https.createServer(
        { key: echo.keyPem, cert: echo.certChainPem, ca: echo.bundlePem, requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 60_000 },
        (req, res) => {
          req.resume();
          req.on('end', () => {
            res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
            res.end(body);
          });
        },
      );
      await new Promise<void>((r) => upstream!.listen(upstreamPort, '127.0.0.1', r));
    },
    stop: (signal = 'SIGTERM') => serve.stop(signal),
    async restart() {
      await launch();
    },
    async cleanup() {
      await serve.stop('SIGTERM').catch(() => undefined);
      if (upstream) {
        upstream.closeAllConnections();
        await new Promise<void>((r) => upstream!.close(() => r()));
      }
      if (!opts.dataDir) fs.rmSync(work, { recursive: true, force: true });
      else fs.rmSync(work, { recursive: true, force: true });
    },
  };
  if (!opts.noUpstream) await g.startUpstream();
  return g;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const envNum = (name: string, dflt: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
