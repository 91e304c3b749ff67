/**
 * What the SQLite and PostgreSQL stores read back the same way: the issued-certificate listing (the same
 * SQL in both dialects) and the revocation log, as rows and as the records the CA hands out.
 */
import type { IssuedRecord } from '../api.js';
import type { RevocationEvent } from './types.js';

// revoked: the certificate itself, or its identity is banned now (a certificate recorded by another
// process just as the ban was written is covered too)
export const LIST_ISSUED = `SELECT i.serial, i.spiffe_id, i.not_before, i.not_after, i.issued_at,
  (i.revoked_at IS NOT NULL OR b.spiffe_id IS NOT NULL) AS revoked
  FROM issued i LEFT JOIN banned_identities b ON b.spiffe_id = i.spiffe_id`;

export interface IssuedRow {
  serial: string;
  spiffe_id: string;
  not_before: number;
  not_after: number;
  issued_at: number;
  /** a boolean in PostgreSQL, 0/1 in SQLite */
  revoked: boolean | number;
}

export interface LogRow {
  seq: number;
  kind: RevocationEvent['kind'];
  spiffe_id: string;
  serial: string | null;
  not_after: number | null;
}

export function issuedFromRow(r: IssuedRow): IssuedRecord {
  return {
    serial: r.serial,
    spiffeId: r.spiffe_id,
    notBefore: r.not_before,
    notAfter: r.not_after,
    issuedAt: r.issued_at,
    revoked: r.revoked === true || r.revoked === 1,
  };
}

export function eventFromRow(r: LogRow): RevocationEvent {
  return r.kind === 'serial'
    ? { seq: r.seq, kind: 'serial', serial: r.serial ?? '', spiffeId: r.spiffe_id, notAfter: r.not_after ?? Number.MAX_SAFE_INTEGER }
    : { seq: r.seq, kind: r.kind, spiffeId: r.spiffe_id };
}
