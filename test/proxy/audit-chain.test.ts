import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAuditLog } from '../../proxy/index.js';
import { lineHash } from '../../proxy/audit-chain.js';
import { verifyAuditFiles } from '../../proxy/audit-verify.js';
import { pemBlocks } from '../../certs/pem.js';
import { makeTrustDomain, type TestTrustDomain } from '../fakes/trust-domain.js';
import { post, SEND, startHarness } from './harness.js';

/**
 * The tamper-evident audit log, on files a real gateway wrote (test/proxy/harness.ts: real mTLS calls through
 * the proxy, checkpoints signed with the gateway's SVID, which rotates halfway), then tampered with in each way.
 */
let dir: string;
let td: TestTrustDomain;
let bundle: Buffer[];
let pristine: string;
let file: string;

async function gatewayRun(opts: { file: string; rotateBytes?: number; calls: number; rotateSvidAt?: number; checkpointEvery?: number }): Promise<void> {
  const audit = createAuditLog({ path: opts.file, flushOnSigterm: false, rotateBytes: opts.rotateBytes, checkpointMs: 3_600_000 });
  const h = await startHarness({ td, audit });
  audit.setSigner(() => h.creds);
  const alice = h.client(h.alice);
  const mallory = h.client(h.mallory);
  for (let i = 0; i < opts.calls; i++) {
    if (i === opts.rotateSvidAt) h.creds = await td.gatewayCredentials();
    const who = i % 5 === 4 ? mallory : alice;
    const r = await post(who, `${h.base}/a2a/echo/rpc`, SEND(i));
    expect(r.status).toBe(who === alice ? 200 : 403);
    if (opts.checkpointEvery && i % opts.checkpointEvery === opts.checkpointEvery - 1) audit.checkpoint();
  }
  await h.close();
  await audit.close();
}

const lines = (text: string) => text.split('\n').slice(0, -1);
const join = (ls: string[]) => `${ls.join('\n')}\n`;
const verify = (files: Record<string, string>) =>
  verifyAuditFiles(
    Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text) })),
    { bundle },
  );
const one = (text: string) => verify({ 'audit.log': text }).files[0];
const rec = (l: string) => JSON.parse(l) as Record<string, unknown>;
/** the line with `prev` set to the hash of `before` (what an attacker who knows the format can do) */
const relink = (l: string, before: string) => l.replace(/"prev":"[^"]*"}$/, `"prev":"${lineHash(before)}"}`);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-audit-chain-'));
  td = await makeTrustDomain('example.org');
  bundle = pemBlocks(td.bundlePem);
  file = path.join(dir, 'audit.log');
  // 16 calls, a checkpoint every 4, the gateway SVID rotated before call 9
  await gatewayRun({ file, calls: 16, rotateSvidAt: 8, checkpointEvery: 4 });
  pristine = fs.readFileSync(file, 'utf8');
}, 60_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the audit chain as the gateway writes it', () => {
  it('chains every line to the one before and signs checkpoints with the rotating SVID', () => {
    const ls = lines(pristine);
    expect(rec(ls[0])).toMatchObject({ kind: 'open', reason: 'start', prev: '' });
    for (let i = 1; i < ls.length; i++) expect(rec(ls[i]).prev).toBe(lineHash(ls[i - 1]));
    expect(ls.filter((l) => rec(l).kind === 'call')).toHaveLength(16);
    const cps = ls.map(rec).filter((r) => r.kind === 'checkpoint');
    expect(cps).toHaveLength(5); // 4 periodic + the closing one
    expect(cps.at(-1)).toMatchObject({ end: 'close', by: 'spiffe://example.org/tollgate/gateway' });
    // the chain is embedded in the first checkpoint and again after the SVID rotated
    expect(cps.filter((c) => Array.isArray(c.x5c))).toHaveLength(2);
    const f = one(pristine);
    expect(f.problem).toBeUndefined();
    expect(f).toMatchObject({
      lines: ls.length,
      checkpoints: 5,
      certificates: 2,
      unsignedTail: 0,
      ending: 'close',
      signers: ['spiffe://example.org/tollgate/gateway'],
    });
  });

  it('names an altered line', () => {
    const ls = lines(pristine);
    ls[3] = ls[3].replace('"status":200', '"status":201');
    expect(one(join(ls)).problem).toMatchObject({ line: 4, kind: 'altered' });
  });

  it('names where a line was removed', () => {
    const ls = lines(pristine);
    ls.splice(2, 1); // the third line
    expect(one(join(ls)).problem).toMatchObject({ line: 3, kind: 'removed' });
  });

  it('names an inserted line, also one whose prev was set to fit', () => {
    const ls = lines(pristine);
    const copy = [...ls];
    copy.splice(6, 0, ls[2]); // a replayed line
    expect(one(join(copy)).problem).toMatchObject({ line: 7, kind: 'inserted' });
    const forged = [...ls];
    forged.splice(4, 0, relink(ls[2].replace('"status":200', '"status":204'), ls[3])); // links to line 4
    expect(one(join(forged)).problem).toMatchObject({ line: 5, kind: 'inserted' });
  });

  it('names the first line out of order', () => {
    const ls = lines(pristine);
    [ls[3], ls[4]] = [ls[4], ls[3]];
    expect(one(join(ls)).problem).toMatchObject({ line: 4, kind: 'reordered' });
  });

  it('refuses an altered or forged checkpoint and a chain rebuilt without the key', () => {
    const ls = lines(pristine);
    const cp = ls.findIndex((l) => rec(l).kind === 'checkpoint');
    const bumped = [...ls];
    bumped[cp] = bumped[cp].replace(/"n":\d+/, '"n":1');
    expect(one(join(bumped)).problem).toMatchObject({ line: cp + 1, kind: 'signature' });
    // an edit with every later hash recomputed: the chain holds, the next checkpoint's signature does not
    const rebuilt = [...ls];
    rebuilt[2] = rebuilt[2].replace('"status":200', '"status":201');
    for (let i = 3; i < rebuilt.length; i++) rebuilt[i] = relink(rebuilt[i], rebuilt[i - 1]);
    expect(one(join(rebuilt)).problem).toMatchObject({ line: cp + 1, kind: 'signature' });
    // ... and without the checkpoints nothing is signed
    const stripped = rebuilt.filter((l) => rec(l).kind !== 'checkpoint');
    for (let i = 1; i < stripped.length; i++) stripped[i] = relink(stripped[i], stripped[i - 1]);
    expect(one(join(stripped)).problem).toMatchObject({ kind: 'unsigned' });
  });

  it('checks the signer against the trust bundle', async () => {
    const other = await makeTrustDomain('example.org');
    const r = verifyAuditFiles([{ name: 'audit.log', data: Buffer.from(pristine) }], { bundle: pemBlocks(other.bundlePem) });
    expect(r.problems[0]).toMatchObject({ kind: 'signature', message: expect.stringContaining('trust bundle') });
  });

  it('says what it cannot see: a tail cut after the last checkpoint', () => {
    const ls = lines(pristine);
    const cps = ls.flatMap((l, i) => (rec(l).kind === 'checkpoint' ? [i] : []));
    const lastCp = cps.at(-3)!; // the one before the last periodic one: calls follow it
    // cut right after a checkpoint: indistinguishable from a gateway that stopped there, so only a note
    const cut = one(join(ls.slice(0, lastCp + 1)));
    expect(cut.problem).toBeUndefined();
    expect(cut.ending).toBe('open');
    expect(cut.notes.join('\n')).toContain('does not end with a closing checkpoint');
    // lines after the last checkpoint are chained but not signed: counted and named
    const tail = one(join(ls.slice(0, lastCp + 3)));
    expect(tail.problem).toBeUndefined();
    expect(tail.unsignedTail).toBe(2);
    expect(tail.notes.join('\n')).toContain('not yet signed');
  });

  it('goes on across a restart: the restarted gateway chains to the last line of the file', async () => {
    const f = path.join(dir, 'restart.log');
    await gatewayRun({ file: f, calls: 3 });
    await gatewayRun({ file: f, calls: 3 });
    const text = fs.readFileSync(f, 'utf8');
    const ls = lines(text);
    const second = ls.findIndex((l, i) => i > 0 && rec(l).kind === 'open');
    expect(rec(ls[second])).toMatchObject({ reason: 'start', prev: lineHash(ls[second - 1]) });
    expect(one(text).problem).toBeUndefined();
    // the first run's closing checkpoint removed: the restart line names a line that is gone
    const gone = [...ls];
    gone.splice(second - 1, 1);
    expect(one(join(gone)).problem).toMatchObject({ line: second, kind: 'removed' });
  });
});

describe('rotation keeps the chain', () => {
  let files: Record<string, string>;
  beforeAll(async () => {
    const f = path.join(dir, 'rot', 'audit.log');
    await gatewayRun({ file: f, calls: 20, rotateBytes: 2000 });
    // oldest first: the rotated files by their time suffix, then the file being written
    const names = [
      ...fs
        .readdirSync(path.dirname(f))
        .filter((n) => n !== 'audit.log')
        .sort(),
      'audit.log',
    ];
    files = Object.fromEntries(names.map((n) => [n, fs.readFileSync(path.join(path.dirname(f), n), 'utf8')]));
  }, 60_000);

  it('each rotated file starts with the hash of the one before and verifies alone and together', () => {
    const names = Object.keys(files);
    expect(names.length).toBeGreaterThanOrEqual(3);
    // given in any order, each file names the one it continues
    const r = verify(Object.fromEntries(Object.entries(files).reverse()));
    expect(r.ok).toBe(true);
    const follows = r.files.filter((x) => x.follows !== undefined);
    expect(follows).toHaveLength(names.length - 1);
    for (const x of r.files.filter((y) => y.file !== 'audit.log')) expect(x.ending).toBe('rotate');
    expect(r.files.find((x) => x.file === 'audit.log')?.ending).toBe('close');
    const calls = Object.values(files).flatMap((t) => lines(t).filter((l) => rec(l).kind === 'call'));
    expect(calls).toHaveLength(20);
  });

  it('sees lines added to a rotated file after it was rotated, and notes a missing file', () => {
    const [a, b] = Object.keys(files);
    // a call line chained onto the end of the rotated file: the file alone cannot tell (unsigned tail); the next one can
    const la = lines(files[a]);
    const appended = { ...files, [a]: `${files[a]}${relink(lines(files[b])[1], la.at(-1)!)}\n` };
    expect(one(appended[a]).problem).toBeUndefined();
    expect(verify(appended).problems[0]).toMatchObject({ file: a, kind: 'inserted' });
    const without = Object.fromEntries(Object.entries(files).filter(([n]) => n !== a));
    const r = verify(without);
    expect(r.ok).toBe(true);
    expect(r.files.find((x) => x.file === b)?.notes.join('\n')).toContain('not given');
  });
});
