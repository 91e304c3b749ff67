import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAuditLog } from '../../proxy/index.js';

describe('audit log clock', () => {
  it('stamps each line with the injected clock (the gateway passes its own)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-audit-'));
    const file = path.join(dir, 'audit.log');
    const audit = createAuditLog({ path: file, flushOnSigterm: false, now: () => 1_234_567 });
    audit.write({
      caller: 'spiffe://t/agent/a',
      callee: 'b',
      method: 'message/send',
      decision: 'allow',
      reason: 'ok',
      status: 200,
      bytesIn: 1,
      bytesOut: 2,
      durationUs: 3,
    });
    await audit.close();
    const lines = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { time: number; kind: string });
    expect(lines.map((l) => l.kind)).toEqual(['open', 'call']); // no signer: chained, no checkpoint
    for (const l of lines) expect(l.time).toBe(1_234_567);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
