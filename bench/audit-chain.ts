/**
 * Hot-path cost of the audit log's hash chain (proxy/audit-chain.ts), per governed call, in CPU µs:
 *   - chainUs: what the chain adds to a line: the "prev" field spliced in + SHA-256 of the line (base64url)
 *   - writeUs: a whole audit write as the gateway does it (createAuditLog().write to a file: line, chain,
 *     chunk; the 64 KiB hand-overs to sonic-boom included), and unchainedUs: the same line and chunk work
 *     without the chain, for comparison
 *   - checkpointUs: one signed checkpoint (ECDSA P-256), paid once per checkpoint interval, not per call
 *
 *   node dist/bench/audit-chain.js [n]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditLine, createAuditLog, type AuditRecord } from '../proxy/audit.js';
import { CheckpointSigner, lineHash } from '../proxy/audit-chain.js';
import { makeBenchPki } from './lib/pki.js';

function cpuUsPer(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i); // warm-up
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const c = process.cpuUsage(c0);
  return Math.round(((c.user + c.system) / n) * 1000) / 1000;
}

const REC: AuditRecord = {
  caller: 'spiffe://tollgate.local/agent/orchestrator',
  callee: 'writer',
  method: 'SendMessage',
  decision: 'allow',
  reason: 'ok',
  status: 200,
  bytesIn: 312,
  bytesOut: 845,
  durationUs: 1234,
  traceId: '0af7651916cd43dd8448eb211c80319c',
};

export async function benchAuditChain(n = 200_000) {
  const line = auditLine(REC, 1_700_000_000_000);
  let last = lineHash('');
  const chainUs = cpuUsPer(n, () => {
    const body = `${line.slice(0, line.length - 2)},"prev":"${last}"}`;
    last = lineHash(body);
  });

  // the line and chunk work the writer did before the chain (auditLine + write into a 64 KiB Buffer)
  let chunk = Buffer.allocUnsafe(64 * 1024);
  let used = 0;
  const unchainedUs = cpuUsPer(n, (i) => {
    const l = auditLine(REC, 1_700_000_000_000 + i);
    if (chunk.length - used < l.length * 3) {
      chunk = Buffer.allocUnsafe(64 * 1024);
      used = 0;
    }
    used += chunk.write(l, used);
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-audit-'));
  const audit = createAuditLog({ path: path.join(dir, 'audit.log'), flushOnSigterm: false, checkpointMs: 3_600_000 });
  const writeUs = cpuUsPer(n, () => audit.write(REC));
  await audit.close();

  const pki = await makeBenchPki('tollgate.local');
  const gw = await pki.leaf('gateway', '/tollgate/gateway');
  const creds = { keyPem: gw.keyPem, certChainPem: gw.chainPem, spiffeId: 'spiffe://tollgate.local/tollgate/gateway' };
  const signer = new CheckpointSigner(() => creds);
  signer.line(last, 1, Date.now(), ''); // parse the key once, as the writer does per SVID
  const checkpointUs = cpuUsPer(Math.max(200, Math.floor(n / 200)), (i) => void signer.line(last, i, Date.now(), ''));
  fs.rmSync(dir, { recursive: true, force: true });
  return { chainUs, unchainedUs, writeUs, checkpointUs, n };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 200_000);
  console.log(JSON.stringify(await benchAuditChain(n), null, 2));
}
