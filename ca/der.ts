/**
 * A minimal DER encoder and reader: just the ASN.1 the CA writes (certificates) and reads (PKCS#10 CSRs,
 * its own CA certificates). Why not @peculiar/x509 on the issuance path: measured on this machine its
 * CSR parse+verify costs ~1.6 ms and its certificate generator ~4.3 ms, against a budget of 500 µs per
 * certificate (≥ 2,000 certificates/s). Building the few fixed structures by hand and signing with
 * node:crypto is ~15× faster. @peculiar/x509 and openssl cross-check the output in test/ca.
 */
import { DerError, TAG } from '../certs/der.js';

// The reader (and DerError, TAG) lives in certs/der.ts, shared with SVID validation; re-exported here so the
// CA keeps one import for both directions.
export { DerError, TAG, readTlv, readWhole, children, expectTag, content, whole, decodeOid, decodeTime, type Tlv } from '../certs/der.js';

// ---------------------------------------------------------------- encoding

function headerLength(len: number): number {
  if (len < 0x80) return 2;
  if (len < 0x100) return 3;
  if (len < 0x10000) return 4;
  if (len < 0x1000000) return 5;
  return 6;
}

/** Write tag and definite length at the start of `out`; returns the content offset. */
function writeHeader(out: Buffer, tag: number, len: number): number {
  out[0] = tag;
  if (len < 0x80) {
    out[1] = len;
    return 2;
  }
  const n = headerLength(len) - 2;
  out[1] = 0x80 | n;
  for (let i = 0, v = len; i < n; i++, v = Math.floor(v / 256)) out[1 + n - i] = v & 0xff;
  return 2 + n;
}

// Each constructor allocates its output once and copies the parts in: certificates are built per
// request, and Buffer.concat chains were a measurable share of the issuance cost.

export function tlv(tag: number, content: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(headerLength(content.length) + content.length);
  out.set(content, writeHeader(out, tag, content.length));
  return out;
}

/** An element whose content is the concatenation of `parts`. */
function element(tag: number, parts: readonly Uint8Array[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = Buffer.allocUnsafe(headerLength(len) + len);
  let off = writeHeader(out, tag, len);
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const seq = (...parts: Uint8Array[]): Buffer => element(TAG.SEQUENCE, parts);
export const set = (...parts: Uint8Array[]): Buffer => element(TAG.SET, parts);
export const octetString = (b: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, b);
export const bool = (v: boolean): Buffer => Buffer.from([TAG.BOOLEAN, 1, v ? 0xff : 0x00]);
export const utf8String = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
export const ia5String = (s: string): Buffer => tlv(TAG.IA5_STRING, Buffer.from(s, 'ascii'));
/** [n] EXPLICIT: constructed context-specific wrapper */
export const explicit = (n: number, ...parts: Uint8Array[]): Buffer => element(0xa0 | n, parts);
/** [n] IMPLICIT on a primitive type (GeneralName dNSName, URI, iPAddress, keyIdentifier) */
export const implicitPrimitive = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);

export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  return element(TAG.BIT_STRING, [Buffer.of(unusedBits), bytes]);
}

/** A non-negative INTEGER from big-endian magnitude bytes, minimally encoded (DER). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let body = Buffer.from(magnitude.subarray(i));
  if (body.length === 0) body = Buffer.from([0]);
  if (body[0] & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(TAG.INTEGER, body);
}

export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new DerError(`integer ${n} out of range`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Buffer.from(bytes.length ? bytes : [0]));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => Number(a));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new DerError(`bad OID ${dotted}`);
  const out: number[] = [];
  const push = (v: number) => {
    const chunk: number[] = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  };
  push(arcs[0] * 40 + arcs[1]);
  for (const a of arcs.slice(2)) push(a);
  return tlv(TAG.OID, Buffer.from(out));
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, 'Z'. */
export function time(ms: number): Buffer {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(TAG.UTC_TIME, Buffer.from(pad(y % 100) + rest, 'ascii'));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(pad(y, 4) + rest, 'ascii'));
}
