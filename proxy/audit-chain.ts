import { createPrivateKey, hash, sign, type KeyObject } from 'node:crypto';
import { pemBlocks } from '../certs/pem.js';
import type { GatewayCredentials } from '../ca/api.js';

/**
 * The audit log's hash chain (tamper evidence), format level only: the writer (audit.ts) and the offline
 * verifier (audit-verify.ts) share these definitions.
 *
 * Every line ends with `"prev":"<h>"}`: h is SHA-256, base64url, of the exact bytes of the line before it
 * (without its newline). The writer adds the field to whatever line it is given, so a field added to the
 * line format is covered without a change here. Besides the call lines there are two kinds of line:
 *
 *   {"kind":"open","reason":"start"|"rotate",…,"prev":…}  first line of every file, and the first line a
 *        restarted gateway appends. "start": prev is the hash of the file's last line before it ("" for a new
 *        file). "rotate": prev is the hash of the last line of the file that was rotated away.
 *   {"kind":"checkpoint","n":N,"by":ID,"cert":FP,["x5c":[…],]["end":"rotate"|"close",]"sig":S,"prev":…}
 *        signed with the gateway's SVID key: n = lines since the chain's "open" line; FP = SHA-256 (base64url)
 *        of the signing certificate's DER; x5c = that certificate and its intermediate (base64 DER), embedded in
 *        the first checkpoint of each chain and again whenever the SVID rotated, so each file verifies alone.
 *        S signs checkpointMessage(): the chain head (prev), n, time, end, by and FP.
 */
export const GENESIS = '';

/** The hash a line's successor carries as "prev" (the line without its trailing newline). */
export function lineHash(line: string | Uint8Array): string {
  return hash('sha256', line, 'base64url');
}

/** What a checkpoint's signature covers. */
export function checkpointMessage(c: { prev: string; n: number; time: number; end: string; by: string; cert: string }): Buffer {
  return Buffer.from(`tollgate-audit-checkpoint/v1\n${c.prev}\n${c.n}\n${c.time}\n${c.end}\n${c.by}\n${c.cert}`);
}

/** What signs checkpoints: the gateway's current SVID (it rotates). */
export type AuditSigner = () => Pick<GatewayCredentials, 'keyPem' | 'certChainPem' | 'spiffeId'> | undefined;

interface SigningKey {
  pem: string;
  key: KeyObject;
  by: string;
  cert: string;
  x5c: string;
}

/**
 * Builds checkpoint lines (without "prev": the writer adds it like on every line). The key is parsed once per
 * SVID; the certificate chain is embedded when `embed` says so (a new chain, or a new SVID).
 */
export class CheckpointSigner {
  private current: SigningKey | undefined;
  private embeddedCert = '';

  constructor(private signer: AuditSigner) {}

  /** sign with another source from now on (the gateway's identity exists only after the log is open) */
  use(signer: AuditSigner): void {
    this.signer = signer;
  }

  /** a new chain (file or restart): the next checkpoint embeds the certificate chain again */
  newChain(): void {
    this.embeddedCert = '';
  }

  /** The checkpoint line for chain head `prev` after `n` lines, or undefined while there is no SVID yet. */
  line(prev: string, n: number, time: number, end: '' | 'rotate' | 'close'): string | undefined {
    const creds = this.signer();
    if (creds === undefined) return undefined;
    let k = this.current;
    if (k === undefined || k.pem !== creds.certChainPem) {
      const ders = pemBlocks(creds.certChainPem);
      if (ders.length === 0) return undefined;
      k = {
        pem: creds.certChainPem,
        key: createPrivateKey(creds.keyPem),
        by: creds.spiffeId,
        cert: lineHash(ders[0]),
        x5c: JSON.stringify(ders.map((d) => d.toString('base64'))),
      };
      this.current = k;
    }
    const sig = sign('sha256', checkpointMessage({ prev, n, time, end, by: k.by, cert: k.cert }), k.key).toString('base64url');
    const x5c = this.embeddedCert === k.cert ? '' : `,"x5c":${k.x5c}`;
    this.embeddedCert = k.cert;
    const e = end === '' ? '' : `,"end":"${end}"`;
    return `{"level":30,"time":${time},"kind":"checkpoint","n":${n},"by":${JSON.stringify(k.by)},"cert":"${k.cert}"${x5c}${e},"sig":"${sig}"}\n`;
  }
}

/** The first line of a file, or of a restarted gateway's part of it (without "prev"). */
export function openLine(time: number, reason: 'start' | 'rotate'): string {
  return `{"level":30,"time":${time},"kind":"open","reason":"${reason}"}\n`;
}
