import { verify as verifySignature, X509Certificate } from 'node:crypto';
import { CertError } from '../certs/errors.js';
import { TrustBundle, validateSvid } from '../certs/svid.js';
import { parseSpiffeId } from '../certs/spiffe-id.js';
import { checkpointMessage, GENESIS, lineHash } from './audit-chain.js';

/**
 * Offline verification of audit files written with the hash chain (audit-chain.ts): pure over the files'
 * bytes and the trust bundle, no clock (a checkpoint's certificate is checked at the checkpoint's own time).
 *
 * Per file it reports the FIRST line where the record was changed, classified:
 *   altered    a line's bytes changed (its successor's "prev" is not its hash; the chain's line count at
 *              the next checkpoint is unchanged), or a checkpoint whose signature does not verify
 *   removed    lines are missing before this line (the next checkpoint counts more lines than the file has)
 *   inserted   a line that is not part of the chain (a repeated link, or one more line than the checkpoint counts)
 *   reordered  a line whose predecessor comes after it
 *   malformed  not an audit line (not JSON, or no "prev"), e.g. a line cut short
 *   unsigned   no signed checkpoint covers any line of the file (a chain rebuilt without the gateway's key)
 * What it cannot see: the lines after a chain's last checkpoint are chained but not yet signed, so they can
 * be cut off (or rewritten with recomputed hashes) without a trace in that file; `unsignedTail` counts them.
 * A cut is seen when a later file given alongside continues from a line that is no longer there.
 */
export type AuditProblemKind = 'altered' | 'removed' | 'inserted' | 'reordered' | 'malformed' | 'signature' | 'unsigned';

export interface AuditProblem {
  file: string;
  /** 1-based line number */
  line: number;
  kind: AuditProblemKind;
  message: string;
}

export interface AuditFileReport {
  file: string;
  lines: number;
  checkpoints: number;
  /** the SPIFFE IDs that signed its checkpoints, and how many distinct certificates */
  signers: string[];
  certificates: number;
  /** lines after the last signed checkpoint (chained, not signed) */
  unsignedTail: number;
  /** the file this one continues (its first line carries that file's last hash) */
  follows?: string;
  /** how the file ends: 'close' (the gateway stopped), 'rotate', or 'open' (running, crashed or cut) */
  ending: 'close' | 'rotate' | 'open';
  notes: string[];
  problem?: AuditProblem;
}

export interface AuditReport {
  ok: boolean;
  files: AuditFileReport[];
  problems: AuditProblem[];
}

export interface AuditVerifyOptions {
  /** trust anchors (DER): the CA roots the gateway's SVIDs chain to */
  bundle: readonly Uint8Array[];
  /** the path a signer's SPIFFE ID must have (default /tollgate/gateway) */
  gatewayPath?: string;
  /** the trust domain a signer must be in (default: any the bundle vouches for) */
  trustDomain?: string;
}

interface Line {
  bytes: Buffer;
  hash: string;
  rec: Record<string, unknown> | undefined;
  prev: string | undefined;
}

interface CertInfo {
  chain: Buffer[];
  id: string;
  key: X509Certificate['publicKey'];
}

class Stop extends Error {
  constructor(readonly problem: Omit<AuditProblem, 'file'>) {
    super(problem.message);
  }
}

function splitLines(data: Buffer): { lines: Buffer[]; partial: boolean } {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, start)) {
    lines.push(data.subarray(start, i));
    start = i + 1;
  }
  const partial = start < data.length;
  if (partial) lines.push(data.subarray(start));
  return { lines, partial };
}

function parseLine(bytes: Buffer): Line {
  let rec: Record<string, unknown> | undefined;
  try {
    const v: unknown = JSON.parse(bytes.toString('utf8'));
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) rec = v as Record<string, unknown>;
  } catch {
    rec = undefined;
  }
  const prev = typeof rec?.prev === 'string' ? rec.prev : undefined;
  return { bytes, hash: lineHash(bytes), rec, prev };
}

export function verifyAuditFiles(files: readonly { name: string; data: Buffer }[], opts: AuditVerifyOptions): AuditReport {
  const bundle = new TrustBundle(opts.bundle);
  const certs = new Map<string, CertInfo>();
  const parsed = files.map((f) => ({ name: f.name, ...splitLines(f.data) })).map((f) => ({ ...f, lines: f.lines.map(parseLine) }));
  const reports = parsed.map((f) => verifyFile(f.name, f.lines, f.partial, bundle, certs, opts));

  // across files: a file opened by rotation carries the hash of the last line of the one before it
  for (let i = 0; i < parsed.length; i++) {
    const first = parsed[i].lines[0];
    if (first?.rec?.kind !== 'open' || first.rec.reason !== 'rotate' || first.prev === undefined) continue;
    let found = false;
    for (let j = 0; j < parsed.length && !found; j++) {
      if (j === i) continue;
      const other = parsed[j].lines;
      const at = other.findIndex((l) => l.hash === first.prev);
      if (at < 0) continue;
      found = true;
      if (at === other.length - 1) reports[i].follows = parsed[j].name;
      else if (reports[j].problem === undefined) {
        reports[j].problem = {
          file: parsed[j].name,
          line: at + 2,
          kind: 'inserted',
          message: `line ${at + 2} and after were added after the file was rotated: ${parsed[i].name} continues from line ${at + 1}`,
        };
      }
    }
    if (!found) reports[i].notes.push('continues a rotated file that was not given (or whose end was cut off)');
  }
  for (const r of reports) {
    if (r.ending === 'rotate' && !reports.some((o) => o.follows === r.file)) r.notes.push('rotated; the file that continues it was not given');
  }
  const problems = reports.flatMap((r) => (r.problem ? [r.problem] : []));
  return { ok: problems.length === 0, files: reports, problems };
}

function verifyFile(
  name: string,
  lines: Line[],
  partial: boolean,
  bundle: TrustBundle,
  certs: Map<string, CertInfo>,
  opts: AuditVerifyOptions,
): AuditFileReport {
  const report: AuditFileReport = { file: name, lines: lines.length, checkpoints: 0, signers: [], certificates: 0, unsignedTail: 0, ending: 'open', notes: [] };
  if (lines.length === 0) return report;
  const firstIdx = new Map<string, number>();
  const referenced = new Set<string>();
  lines.forEach((l, i) => {
    if (!firstIdx.has(l.hash)) firstIdx.set(l.hash, i);
    if (l.prev !== undefined) referenced.add(l.prev);
  });
  /** chain tails not yet continued -> lines since that chain's "open" line */
  const open = new Map<string, { count: number }>();
  /** hashes already continued -> the line that continued them */
  const used = new Map<string, number>();
  const signedAt: number[] = [];
  const certsSeen = new Set<string>();
  const signers = new Set<string>();

  try {
    for (let j = 0; j < lines.length; j++) {
      const l = lines[j];
      const no = j + 1;
      if (l.rec === undefined || l.prev === undefined) {
        const why = j === lines.length - 1 && partial ? 'is cut short (no newline)' : l.rec === undefined ? 'is not JSON' : 'has no "prev" hash';
        throw new Stop({ line: no, kind: 'malformed', message: `line ${no} ${why}: it is not a line the gateway wrote` });
      }
      if (l.rec.kind === 'open') {
        if (l.prev === GENESIS) {
          if (j > 0) throw new Stop({ line: no, kind: 'inserted', message: `line ${no} starts a new chain in the middle of the file` });
        } else if (j === 0 && l.rec.reason !== 'rotate') {
          throw new Stop({ line: no, kind: 'removed', message: `lines before line 1 were removed: its opening line refers to a line that is not in the file` });
        } else if (j > 0) {
          const at = firstIdx.get(l.prev);
          if (at === undefined || at >= j)
            throw new Stop({
              line: no,
              kind: 'removed',
              message: `the restart at line ${no} refers to a line that is not before it: lines before line ${no} were removed, or line ${no - 1} was altered`,
            });
        }
        open.set(l.hash, { count: 0 });
        continue;
      }
      if (j === 0) throw new Stop({ line: 1, kind: 'removed', message: 'lines before line 1 were removed: a file starts with its opening line' });
      const chain = open.get(l.prev);
      if (chain === undefined) {
        const c = used.get(l.prev);
        if (c !== undefined) {
          // two lines continue the same line: the one the rest of the chain does not continue is the extra one
          const extra = referenced.has(lines[c].hash) ? j : c;
          throw new Stop({
            line: extra + 1,
            kind: 'inserted',
            message: `line ${extra + 1} was inserted: lines ${c + 1} and ${no} both claim to follow line ${firstIdx.get(l.prev)! + 1}`,
          });
        }
        throw unknownPredecessor(lines, j, firstIdx.get(l.prev), open);
      }
      open.delete(l.prev);
      used.set(l.prev, j);
      if (l.rec.kind === 'checkpoint') {
        checkCheckpoint(l, no, chain.count, bundle, certs, opts);
        signedAt.push(j);
        report.checkpoints++;
        certsSeen.add(l.rec.cert as string);
        signers.add(l.rec.by as string);
      }
      chain.count++;
      open.set(l.hash, chain);
    }
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    report.problem = { file: name, ...e.problem };
  }
  report.signers = [...signers];
  report.certificates = certsSeen.size;
  const lastRec = lines[lines.length - 1].rec;
  if (lastRec?.kind === 'checkpoint' && (lastRec.end === 'close' || lastRec.end === 'rotate')) report.ending = lastRec.end;
  if (report.problem !== undefined) return report;

  // which lines a signed checkpoint vouches for: every line it reaches through "prev" (across restarts too)
  const covered = new Uint8Array(lines.length);
  for (const j of signedAt) {
    for (let k: number | undefined = j; k !== undefined && !covered[k];) {
      covered[k] = 1;
      const p: string = lines[k].prev!;
      const at: number | undefined = p === GENESIS ? undefined : firstIdx.get(p);
      k = at !== undefined && at < k ? at : undefined;
    }
  }
  let tail = 0;
  while (tail < lines.length && !covered[lines.length - 1 - tail]) tail++;
  report.unsignedTail = tail;
  if (tail === lines.length) {
    report.problem = { file: name, line: 1, kind: 'unsigned', message: 'no line is covered by a checkpoint signed by the gateway' };
    return report;
  }
  const gaps = covered.reduce((a, c, i) => a + (c === 0 && i < lines.length - tail ? 1 : 0), 0);
  if (gaps > 0) report.notes.push(`${gaps} line(s) before the last checkpoint are not reached by any signed checkpoint`);
  if (tail > 0)
    report.notes.push(
      `the last ${tail} line(s) come after the last checkpoint: chained but not yet signed (their removal or rewriting cannot be detected from this file)`,
    );
  if (report.ending === 'open')
    report.notes.push('does not end with a closing checkpoint: the gateway is running, stopped without closing the log, or the end was cut off');
  return report;
}

/**
 * Line j's "prev" is not the hash of a line it may follow. Where its predecessor went decides the kind: a later
 * line (reordered); nowhere (the line before it was altered, or lines were removed or inserted): the count in
 * the next checkpoint of the chain tells which.
 */
function unknownPredecessor(lines: Line[], j: number, at: number | undefined, open: Map<string, { count: number }>): Stop {
  const no = j + 1;
  if (at !== undefined && at > j) return new Stop({ line: no, kind: 'reordered', message: `line ${no} is out of order: it belongs after line ${at + 1}` });
  const m = j - 1; // the line the chain should have reached (one writer per chain: the nearest line before it)
  const before = open.get(lines[m].hash)?.count;
  // follow the chain from j to its next checkpoint and compare its count with the lines actually there
  let steps = 0;
  let k = j;
  const next = new Map<string, number>();
  for (let i = j + 1; i < lines.length; i++) if (lines[i].prev !== undefined && !next.has(lines[i].prev!)) next.set(lines[i].prev!, i);
  while (lines[k].rec?.kind !== 'checkpoint') {
    const nk = next.get(lines[k].hash);
    if (nk === undefined) break;
    steps++;
    k = nk;
  }
  const cp = lines[k].rec;
  if (before === undefined || cp?.kind !== 'checkpoint' || typeof cp.n !== 'number') {
    return new Stop({
      line: no - 1,
      kind: 'altered',
      message: `line ${no - 1} was altered, or lines were removed or inserted between lines ${no - 1} and ${no} (line ${no} does not follow it; no later checkpoint tells which)`,
    });
  }
  const actual = before + steps; // lines of the chain before the checkpoint: up to m, then j .. k-1
  const d = cp.n - actual;
  if (d === 0) return new Stop({ line: no - 1, kind: 'altered', message: `line ${no - 1} was altered (line ${no} carries a different hash for it)` });
  if (d > 0)
    return new Stop({
      line: no,
      kind: 'removed',
      message: `${d} line(s) were removed before line ${no} (after line ${no - 1}; the checkpoint at line ${k + 1} counts ${cp.n})`,
    });
  return new Stop({
    line: no - 1,
    kind: 'inserted',
    message: `${-d} line(s) were inserted before line ${no} (line ${no - 1}${-d > 1 ? ' and the ones before it' : ''}; the checkpoint at line ${k + 1} counts ${cp.n})`,
  });
}

function checkCheckpoint(l: Line, no: number, count: number, bundle: TrustBundle, certs: Map<string, CertInfo>, opts: AuditVerifyOptions): void {
  const r = l.rec!;
  const bad = (why: string) => new Stop({ line: no, kind: 'signature', message: `the checkpoint at line ${no} ${why}` });
  const { time, n, by, cert, sig } = r;
  const end = r.end ?? '';
  if (
    typeof time !== 'number' ||
    typeof n !== 'number' ||
    typeof by !== 'string' ||
    typeof cert !== 'string' ||
    typeof sig !== 'string' ||
    typeof end !== 'string'
  )
    throw bad('is missing fields');
  if (Array.isArray(r.x5c)) {
    const chain = r.x5c.map((c) => Buffer.from(String(c), 'base64'));
    if (chain.length === 0 || lineHash(chain[0]) !== cert) throw bad('embeds a certificate that is not the one it names');
    if (!certs.has(cert)) certs.set(cert, { chain, id: '', key: new X509Certificate(chain[0]).publicKey });
  }
  const info = certs.get(cert);
  if (info === undefined) throw bad('names a certificate embedded in no earlier checkpoint');
  let id: string;
  try {
    const trustDomain = opts.trustDomain ?? parseSpiffeId(by).trustDomain;
    id = validateSvid({ chain: info.chain, bundle: [], now: time, trustDomain, usage: 'server' }, bundle).id.uri;
  } catch (e) {
    throw bad(
      `is signed by a certificate the trust bundle does not vouch for at ${new Date(time).toISOString()}: ${e instanceof CertError ? e.message : String(e)}`,
    );
  }
  if (id !== by) throw bad(`names signer ${by} but its certificate is ${id}`);
  if (parseSpiffeId(id).path !== (opts.gatewayPath ?? '/tollgate/gateway')) throw bad(`is signed by ${id}, which is not a gateway`);
  const msg = checkpointMessage({ prev: l.prev!, n, time, end, by, cert });
  if (!verifySignature('sha256', msg, info.key, Buffer.from(sig, 'base64url'))) throw bad('has a signature that does not verify: the checkpoint was altered');
  if (n !== count) throw bad(`counts ${n} lines since the chain's opening line, but the file has ${count}`);
}
