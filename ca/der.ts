/**
 * A minimal DER encoder and reader: just the ASN.1 the CA writes (certificates) and reads (PKCS#10 CSRs,
 * its own CA certificates). Why not @peculiar/x509 on the issuance path: measured on this machine its
 * CSR parse+verify costs ~1.6 ms and its certificate generator ~4.3 ms, against a budget of 500 µs per
 * certificate (≥ 2,000 certificates/s). Building the few fixed structures by hand and signing with
 * node:crypto is ~15× faster. @peculiar/x509 and openssl cross-check the output in test/ca.
 */
import { CodedError } from '../protocol/errors.js';

/** Malformed ASN.1: callers turn it into their own error (a CSR that cannot be parsed is invalid_argument). */
export class DerError extends CodedError<'der_malformed'> {
  constructor(message: string) {
    super('der_malformed', message);
    this.name = 'DerError';
  }
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

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

// ---------------------------------------------------------------- reading

/** One element: its tag and where its content lies in the buffer. */
export interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/** Read the element at `offset`, which must end by `limit`. Definite, minimal lengths only (DER). */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated element');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let p = offset + 1;
  const first = buf[p++];
  let len: number;
  if (first < 0x80) {
    len = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not DER');
    if (n > 4) throw new DerError('element too long');
    if (p + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
    if (len < 0x80 || buf[offset + 2] === 0) throw new DerError('non-minimal length encoding');
  }
  if (p + len > limit) throw new DerError('element extends past its container');
  return { tag, start: offset, contentStart: p, end: p + len };
}

/** The element filling the whole buffer (trailing bytes are an error). */
export function readWhole(buf: Uint8Array, tag: number): Tlv {
  const t = readTlv(buf, 0);
  if (t.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  if (t.end !== buf.length) throw new DerError('trailing bytes after the element');
  return t;
}

/** The children of a constructed element. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.contentStart; p < parent.end; ) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t) throw new DerError(`${what} is missing`);
  if (t.tag !== tag) throw new DerError(`${what} has tag 0x${t.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return t;
}

export const content = (buf: Uint8Array, t: Tlv): Buffer => Buffer.from(buf.buffer, buf.byteOffset + t.contentStart, t.end - t.contentStart);
export const whole = (buf: Uint8Array, t: Tlv): Buffer => Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start);

export function decodeOid(bytes: Uint8Array): string {
  const arcs: number[] = [];
  let v = 0;
  for (const b of bytes) {
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

export function decodeTime(buf: Uint8Array, t: Tlv): number {
  const s = content(buf, t).toString('ascii');
  let m: RegExpExecArray | null;
  if (t.tag === TAG.UTC_TIME && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    const yy = Number(m[1]);
    return Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  if (t.tag === TAG.GENERALIZED_TIME && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  throw new DerError(`unsupported time ${JSON.stringify(s)}`);
}
