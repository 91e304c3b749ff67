/**
 * A strict DER reader: what certs/ needs to read X.509 certificates (svid.ts) and what the CA needs to read
 * CSRs and its own certificates (ca/der.ts re-exports it; the CA may import certs/, never the reverse).
 * No dependencies beyond Buffer.
 *
 * Strict means: single-byte tags only, definite lengths only, minimal length encodings, every length checked
 * against its container, no trailing bytes where a whole value is read, minimal INTEGER and OID encodings.
 * Every failure is a DerError; callers turn it into their own error (certs/: CertError, fail closed).
 */
import { CodedError } from '../protocol/errors.js';

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

/** One element: its tag and where its content lies in the buffer. */
export interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/** Read the element at `offset`, which must end by `limit`. Definite, minimal lengths only (DER). */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset < 0 || limit > buf.length || offset + 2 > limit) throw new DerError('truncated element');
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
  for (let p = parent.contentStart; p < parent.end;) {
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

const MAX_DEPTH = 32;

/**
 * Check that an element is well-formed all the way down: the content of every constructed element is a
 * run of well-formed elements that fills it exactly, and universal primitives whose DER form is fixed
 * (BOOLEAN, INTEGER, BIT STRING, NULL, OBJECT IDENTIFIER, times, UTF8String, BMPString, UniversalString) are
 * valid. Other string contents are not interpreted.
 */
export function checkWellFormed(buf: Uint8Array, t: Tlv, depth = 0): void {
  // Universal class: only SEQUENCE and SET are constructed in DER (no constructed strings), and they never primitive.
  if ((t.tag & 0xc0) === 0) {
    const n = t.tag & 0x1f;
    if ((t.tag & 0x20) !== 0 ? n !== 0x10 && n !== 0x11 : n === 0 || n === 0x10 || n === 0x11)
      throw new DerError(`universal tag 0x${t.tag.toString(16)} in a form DER does not allow`);
  }
  if ((t.tag & 0x20) === 0) {
    checkPrimitive(buf, t);
    return;
  }
  if (depth >= MAX_DEPTH) throw new DerError('nesting too deep');
  for (let p = t.contentStart; p < t.end;) {
    const c = readTlv(buf, p, t.end);
    checkWellFormed(buf, c, depth + 1);
    p = c.end;
  }
}

function checkPrimitive(buf: Uint8Array, t: Tlv): void {
  const len = t.end - t.contentStart;
  switch (t.tag) {
    case TAG.BOOLEAN:
      readBoolean(buf, t, 'BOOLEAN');
      break;
    case TAG.INTEGER:
      integerBytes(buf, t, 'INTEGER');
      break;
    case TAG.BIT_STRING: {
      const unused = buf[t.contentStart];
      if (len < 1 || unused > 7 || (len === 1 && unused !== 0) || (buf[t.end - 1] & ((1 << unused) - 1)) !== 0) throw new DerError('BIT STRING is not DER');
      break;
    }
    case TAG.NULL:
      if (len !== 0) throw new DerError('NULL has content');
      break;
    case TAG.OID:
      decodeOid(buf.subarray(t.contentStart, t.end));
      break;
    case TAG.UTC_TIME:
    case TAG.GENERALIZED_TIME:
      decodeTime(buf, t);
      break;
    case TAG.UTF8_STRING:
      try {
        utf8.decode(buf.subarray(t.contentStart, t.end));
      } catch {
        throw new DerError('UTF8String is not valid UTF-8');
      }
      break;
    case 0x1e: // BMPString
      if (len % 2 !== 0) throw new DerError('BMPString has an odd length');
      break;
    case 0x1c: // UniversalString
      if (len % 4 !== 0) throw new DerError('UniversalString length is not a multiple of 4');
      break;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Dotted form of an OID's content octets; minimal arcs only (no 0x80 lead octet), at most 32-bit arcs past the first. */
export function decodeOid(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  if (bytes[bytes.length - 1] & 0x80) throw new DerError('truncated OBJECT IDENTIFIER arc');
  const arcs: number[] = [];
  let v = 0;
  let fresh = true;
  for (const b of bytes) {
    if (fresh && b === 0x80) throw new DerError('non-minimal OBJECT IDENTIFIER arc');
    fresh = false;
    v = v * 128 + (b & 0x7f);
    if (v > 0xffffffff + 80) throw new DerError('OBJECT IDENTIFIER arc too large');
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else arcs.push(v);
      v = 0;
      fresh = true;
    }
  }
  return arcs.join('.');
}

/** An OID element (tag checked) in dotted form. */
export function readOid(buf: Uint8Array, t: Tlv | undefined, what: string): string {
  return decodeOid(content(buf, expectTag(t, TAG.OID, what)));
}

const UTC = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/**
 * A UTCTime (YYMMDDHHMMSSZ; 1950-2049, RFC 5280) or GeneralizedTime (YYYYMMDDHHMMSSZ) as ms since the epoch.
 * Whole seconds and 'Z' only, and every field in range (no month 13 rolling into the next year).
 */
export function decodeTime(buf: Uint8Array, t: Tlv): number {
  const s = content(buf, t).toString('latin1');
  const m = t.tag === TAG.UTC_TIME ? UTC.exec(s) : t.tag === TAG.GENERALIZED_TIME ? GENERALIZED.exec(s) : null;
  if (!m) throw new DerError(`unsupported time ${JSON.stringify(s)}`);
  let year = Number(m[1]);
  if (t.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  const [mo, d, h, mi, sec] = [m[2], m[3], m[4], m[5], m[6]].map(Number);
  const ms = Date.UTC(year, mo - 1, d, h, mi, sec);
  const back = new Date(ms);
  // Date.UTC maps years 0-99 to 1900-1999; such a GeneralizedTime is refused by the round trip below too.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) {
    throw new DerError(`time out of range ${JSON.stringify(s)}`);
  }
  return ms;
}

/** A BOOLEAN's value; DER allows only 0x00 and 0xff. */
export function readBoolean(buf: Uint8Array, t: Tlv, what: string): boolean {
  expectTag(t, TAG.BOOLEAN, what);
  if (t.end - t.contentStart !== 1 || (buf[t.contentStart] !== 0 && buf[t.contentStart] !== 0xff)) throw new DerError(`${what} is not a DER BOOLEAN`);
  return buf[t.contentStart] === 0xff;
}

/** An INTEGER's content octets, checked to be minimally encoded (DER). */
export function integerBytes(buf: Uint8Array, t: Tlv, what: string): Buffer {
  expectTag(t, TAG.INTEGER, what);
  const c = content(buf, t);
  if (c.length === 0) throw new DerError(`${what} is an empty INTEGER`);
  if (c.length > 1 && ((c[0] === 0 && (c[1] & 0x80) === 0) || (c[0] === 0xff && (c[1] & 0x80) !== 0))) {
    throw new DerError(`${what} is not minimally encoded`);
  }
  return c;
}

/** A non-negative INTEGER that fits in 31 bits. */
export function readSmallUnsigned(buf: Uint8Array, t: Tlv, what: string): number {
  const c = integerBytes(buf, t, what);
  if (c[0] & 0x80) throw new DerError(`${what} is negative`);
  if (c.length > 4) throw new DerError(`${what} is too large`);
  let v = 0;
  for (const b of c) v = v * 256 + b;
  if (v > 0x7fffffff) throw new DerError(`${what} is too large`);
  return v;
}
