/**
 * Shared pieces of the red-team campaign (docs/redteam.md): raw mTLS sockets that send exactly the bytes a
 * case needs (fetch/undici would normalise paths and refuse malformed requests before they leave), and the
 * list of known gaps whose fixes are being made on other branches.
 */
import tls from 'node:tls';
import { it } from 'vitest';

/**
 * Known gaps, one per item of the issue list. A case that fails today because of one of them is written as it
 * will pass once the fix lands and registered with itKnown(): it runs as `it.fails` (the suite stays green,
 * and the case turns red the day the fix lands: then drop the itKnown wrapper). REDTEAM_STRICT=1 runs them
 * as plain cases, to check a fix branch.
 */
export const KNOWN = {
  methodConfusion: 'method confusion on REST paths',
  sqliteOutsideRead: 'outside sqlite3 read splitting the DB',
  controlFlood: 'control-port connection flood',
  headerCount: '>1000 headers pushing identity headers out',
  reservedNamespace: 'reserved gateway namespace',
  xTollgateExact: '`x-tollgate-` exact header',
  headerTimeout: 'header timeout checked every 30 s',
  tokenAtomicity: 'token redemption not all-or-nothing on kill -9',
  dbDeletion: 'DB deletion unnoticed',
  upperCaseTd: 'upper-case trust domain',
  calleeRevocation: 'callee revocation',
  epipe: 'EPIPE',
  continueBefore413: '100-continue before 413',
} as const;
export type KnownItem = keyof typeof KNOWN;

export const STRICT = process.env.REDTEAM_STRICT === '1';

/** A case blocked by a known gap: `it.fails` until the fix lands (REDTEAM_STRICT=1: a plain `it`). */
export function itKnown(item: KnownItem, name: string, fn: () => Promise<void> | void, timeout?: number): void {
  const title = `${name} [known gap: ${KNOWN[item]}]`;
  if (STRICT) it(title, fn, timeout);
  else it.fails(title, fn, timeout);
}

export interface RawIdentity {
  keyPem: string;
  certChainPem: string;
}

export interface RawResult {
  /** status of the first response, or undefined when none came */
  status: number | undefined;
  /** every status line seen (pipelined or interim responses) */
  statuses: number[];
  text: string;
  /** the gateway closed the connection (FIN or reset) */
  closed: boolean;
  error?: string;
  ms: number;
}

/**
 * Open one mTLS connection, write `parts` (a gap of `gapMs` between them), and read until the gateway closes,
 * or `quietMs` pass without data once a complete response has arrived, or `maxMs` in all.
 */
export function rawExchange(
  port: number,
  id: RawIdentity | null,
  bundlePem: string,
  parts: (string | Buffer)[] | string | Buffer,
  opts: { gapMs?: number; quietMs?: number; maxMs?: number; endAfterWrite?: boolean; tls?: Record<string, unknown> } = {},
): Promise<RawResult> {
  const list = Array.isArray(parts) ? parts : [parts];
  const quietMs = opts.quietMs ?? 300;
  const maxMs = opts.maxMs ?? 4_000;
  const t0 = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    let quiet: NodeJS.Timeout | undefined;
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      ca: bundlePem,
      servername: 'localhost',
      ...(id ? { key: id.keyPem, cert: id.certChainPem } : {}),
      ...opts.tls,
    });
    const finish = (closed: boolean, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      clearTimeout(hard);
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      s.destroy();
      resolve({ status: statuses[0], statuses, text, closed, error, ms: Date.now() - t0 });
    };
    const hard = setTimeout(() => finish(false), maxMs);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(quiet);
      quiet = setTimeout(() => finish(false), quietMs);
    });
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', (e: NodeJS.ErrnoException) => finish(true, e.code ?? e.message));
    const send = async () => {
      for (let i = 0; i < list.length; i++) {
        if (done) return;
        s.write(list[i]);
        if (opts.gapMs && i < list.length - 1) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.endAfterWrite) s.end();
    };
    s.once('secureConnect', () => void send());
  });
}

/** A well-formed request (HTTP/1.1, Connection: close) as raw text. */
export function request(method: string, target: string, headers: Record<string, string> | [string, string][] = {}, body = ''): string {
  const list = Array.isArray(headers) ? headers : Object.entries(headers);
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: localhost', ...list.map(([k, v]) => `${k}: ${v}`)];
  if (body.length > 0 && !list.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k))) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  if (!list.some(([k]) => k.toLowerCase() === 'connection')) lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export const RPC = (id: number | string = 1, method = 'message/send') =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method,
    params: { message: { kind: 'message', role: 'user', messageId: `m-${id}`, parts: [{ kind: 'text', text: 'hi' }] } },
  });

/** One JSON line with a case's figures, for docs/redteam.md to quote. */
export function report(name: string, figures: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ redteam: name, ...figures })}\n`);
}
