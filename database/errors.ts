import { CodedError } from '../protocol/errors.js';

export type DatabaseErrorCode =
  | 'unavailable' // the server cannot be reached (down, refused, timed out, connection lost)
  | 'schema_newer' // the database was migrated by a newer Tollgate
  | 'failed'; // the server answered with an error

/** SQLSTATE classes and node errors that mean "the database is not there right now". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-3])/; // connection exception, insufficient resources, admin/crash shutdown
const UNAVAILABLE_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

function isUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (UNAVAILABLE_NODE.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  const msg = e instanceof Error ? e.message : '';
  // pg's own wording for a pool timeout and for a connection that went away mid-query
  return /timeout exceeded when trying to connect|Connection terminated|connection is closed|Client has encountered a connection error/i.test(msg);
}

/** One error type for the database layer. The message names the database (password removed), never SQL. */
export class DatabaseError extends CodedError<DatabaseErrorCode> {
  constructor(code: DatabaseErrorCode, publicMessage: string, options?: { cause?: unknown }) {
    super(code, publicMessage, options);
    this.name = 'DatabaseError';
  }

  static from(location: string, what: string, cause: unknown): DatabaseError {
    if (cause instanceof DatabaseError) return cause;
    if (isUnavailable(cause)) {
      return new DatabaseError('unavailable', `the database at ${location} is unreachable (${what}: ${describe(cause)})`, { cause });
    }
    return new DatabaseError('failed', `the database at ${location} failed (${what}: ${describe(cause)})`, { cause });
  }
}

function describe(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const msg = e instanceof Error ? e.message : String(e);
  return typeof code === 'string' ? `${code} ${msg}` : msg;
}
