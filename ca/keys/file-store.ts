/**
 * The CA's keys on disk. Layout of the data directory (created 0700):
 *   root-ca.pem                      root certificate + private key (0600)
 *   bundle.pem                       the trust bundle (root certificate only, 0644): a copy to hand out
 *   intermediates/<time>-<hash>.pem  each online intermediate, certificate + private key (0600)
 *   tollgate.db                      the store (ca/store/sqlite.ts)
 * Each credential is one file written atomically, so a crash leaves either the old set or the new one.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { CaError } from '../api.js';
import { writeFileAtomic } from './atomic.js';
import { fsFailure } from './fs-errors.js';
import { formatCredential, parseCredential, shortHash, type CaCredential } from './credential.js';

const KEY_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * `20261130T120000Z` (UTC, whole seconds): the time part of an intermediate's file name. Built from the UTC
 * fields rather than `toISOString()`: the first `toISOString()` (or any other date formatting) of a process
 * makes V8 set up its date cache, which pages in ~640 KB of the ICU time zone data compiled into node. This
 * runs when a fresh data dir is set up, and an idle gateway otherwise never formats a date (docs/performance.md,
 * Session 7). Same string as `toISOString()` with `-`, `:` and the milliseconds dropped, for years 0-9999.
 */
export function fileStamp(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${String(d.getUTCFullYear()).padStart(4, '0')}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}`;
  return `${date}T${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
}

export class CaKeyFiles {
  readonly rootFile: string;
  readonly bundleFile: string;
  readonly intermediatesDir: string;
  readonly dbFile: string;

  constructor(readonly dataDir: string) {
    this.rootFile = path.join(dataDir, 'root-ca.pem');
    this.bundleFile = path.join(dataDir, 'bundle.pem');
    this.intermediatesDir = path.join(dataDir, 'intermediates');
    this.dbFile = path.join(dataDir, 'tollgate.db');
  }

  /** Create the data directory (0700) and its intermediates folder when missing; fail clearly when unusable. */
  ensureDirectories(): void {
    for (const dir of [this.dataDir, this.intermediatesDir]) {
      let created: string | undefined;
      try {
        created = mkdirSync(dir, { recursive: true, mode: DIR_MODE });
      } catch (e) {
        throw fsFailure('create the CA data directory', dir, e);
      }
      // only tighten what we created: an existing directory's mode is its owner's choice
      if (created !== undefined) {
        try {
          chmodSync(dir, DIR_MODE);
        } catch (e) {
          throw fsFailure('set permissions on', dir, e);
        }
      }
      let isDir: boolean;
      try {
        isDir = statSync(dir).isDirectory();
      } catch (e) {
        throw fsFailure('read', dir, e);
      }
      if (!isDir) throw new CaError('storage', `${dir} is not a directory; choose another data directory (--data-dir / dataDir)`);
    }
  }

  private readText(file: string): string | null {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw fsFailure('read', file, e);
    }
  }

  /** The root credential, or null when this data directory has none yet. */
  loadRoot(): CaCredential | null {
    const text = this.readText(this.rootFile);
    return text === null ? null : parseCredential(text, this.rootFile);
  }

  saveRoot(certDer: Buffer, key: KeyObject): CaCredential {
    const text = formatCredential(certDer, key);
    writeFileAtomic(this.rootFile, text, KEY_MODE);
    return parseCredential(text, this.rootFile);
  }

  /** Keep bundle.pem equal to the root certificate (rewritten only when it differs). */
  writeBundle(pem: string): void {
    if (this.readText(this.bundleFile) === pem) return;
    writeFileAtomic(this.bundleFile, pem, 0o644);
  }

  /** Every intermediate on disk, oldest notAfter first. A file that does not parse is an error, not skipped. */
  loadIntermediates(): CaCredential[] {
    let names: string[];
    try {
      names = readdirSync(this.intermediatesDir);
    } catch (e) {
      throw fsFailure('list', this.intermediatesDir, e);
    }
    const out: CaCredential[] = [];
    for (const name of names) {
      if (name.startsWith('.') || !name.endsWith('.pem')) continue; // temp files of an interrupted write
      const file = path.join(this.intermediatesDir, name);
      const text = this.readText(file);
      if (text !== null) out.push(parseCredential(text, file));
    }
    return out.sort((a, b) => a.notAfter - b.notAfter);
  }

  saveIntermediate(certDer: Buffer, key: KeyObject, notBefore: number): CaCredential {
    const stamp = fileStamp(notBefore);
    const file = path.join(this.intermediatesDir, `${stamp}-${shortHash(certDer)}.pem`);
    const text = formatCredential(certDer, key);
    writeFileAtomic(file, text, KEY_MODE);
    return parseCredential(text, file);
  }

  /** Delete an expired intermediate's file (its key can sign nothing valid any more). */
  removeIntermediate(cred: CaCredential): void {
    try {
      rmSync(cred.file, { force: true });
    } catch (e) {
      throw fsFailure('delete', cred.file, e);
    }
  }
}
