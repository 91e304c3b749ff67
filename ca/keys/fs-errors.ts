/** File system failures as one clear CaError('storage'): the path, what we tried, and what to do. */
import { CaError } from '../api.js';

const HINTS: Record<string, string> = {
  ENOTDIR: 'a component of the path is a regular file, not a directory; choose another data directory (--data-dir / dataDir)',
  EEXIST: 'something that is not a directory is in the way; choose another data directory (--data-dir / dataDir)',
  EACCES: 'permission denied; run Tollgate as the owner of the data directory or choose another one',
  EPERM: 'operation not permitted; run Tollgate as the owner of the data directory or choose another one',
  EROFS: 'the file system is read-only; choose a writable data directory',
  ENOSPC: 'the disk is full; free space and retry',
  EISDIR: 'a directory is in the way of a file; remove it or choose another data directory',
  ENOENT: 'it does not exist',
};

export function fsFailure(action: string, path: string, e: unknown): CaError {
  if (e instanceof CaError) return e;
  const code = (e as NodeJS.ErrnoException)?.code ?? 'error';
  const hint = HINTS[code] ?? 'check the data directory and its permissions';
  return new CaError('storage', `cannot ${action} ${path} (${code}): ${hint}`, { cause: e });
}
