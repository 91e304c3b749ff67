/**
 * Write a file so that a reader (or a restart after a crash) sees either the old content or the new,
 * never a torn mix: write a temp file beside it, fsync, rename over, fsync the directory.
 */
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fsFailure } from './fs-errors.js';

export function writeFileAtomic(file: string, data: string | Buffer, mode: number): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx', mode);
    fchmodSync(fd, mode); // the umask may have narrowed or (for 0644) changed the mode given to open
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was created, or the directory itself is the problem
    }
    throw fsFailure('write', file, e);
  }
  syncDirectory(path.dirname(file));
}

/** Make a rename durable. Some file systems refuse fsync on a directory; the rename itself already happened. */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
