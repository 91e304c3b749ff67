/**
 * The identity files an agent keeps: key.pem (0600), cert.pem (leaf + intermediate), bundle.pem.
 * Each file is written to a temp file in the same directory and renamed over the old one, so a reader
 * never sees a half-written file. If any write fails, the temp files are removed and the old files stay.
 * Order: bundle, cert, key are staged first and renamed last, so a failure while staging leaves the old
 * set intact; between the renames a reader may briefly see a new cert with the old key, which
 * `readIdentityFiles` detects (key/cert mismatch) and retries.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BootstrapError } from './errors.js';
import { toMaterial, type SvidMaterial } from './material.js';

export const KEY_FILE = 'key.pem';
export const CERT_FILE = 'cert.pem';
export const BUNDLE_FILE = 'bundle.pem';

export async function writeIdentityFiles(dir: string, m: Pick<SvidMaterial, 'keyPem' | 'certChainPem' | 'bundlePem'>): Promise<void> {
  const files: [string, string, number][] = [
    [BUNDLE_FILE, m.bundlePem, 0o644],
    [CERT_FILE, m.certChainPem, 0o644],
    [KEY_FILE, m.keyPem, 0o600],
  ];
  const staged: [string, string][] = [];
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const [name, content, mode] of files) {
      const tmp = path.join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
      staged.push([tmp, path.join(dir, name)]);
      // 'wx' + mode: the key is never readable by others, not even for a moment.
      const fh = await fs.open(tmp, 'wx', mode);
      try {
        await fh.writeFile(content);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    for (const [tmp, final] of staged) await fs.rename(tmp, final);
  } catch (cause) {
    await Promise.all(staged.map(([tmp]) => fs.rm(tmp, { force: true })));
    const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    const hint = code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full: free some space and run it again' : 'check that the directory is writable';
    throw new BootstrapError('files', `cannot write the identity files in ${dir} (${code}); ${hint}`, { cause });
  }
}

export async function readIdentityFiles(dir: string): Promise<SvidMaterial> {
  for (let attempt = 0; ; attempt++) {
    const texts: string[] = [];
    try {
      // One after the other, so a missing file is always reported in the same order.
      for (const f of [KEY_FILE, CERT_FILE, BUNDLE_FILE]) texts.push(await fs.readFile(path.join(dir, f), 'utf8'));
    } catch (cause) {
      const e = cause as NodeJS.ErrnoException;
      const what = e.code === 'ENOENT' ? `${path.basename(e.path ?? '')} is missing` : (e.code ?? e.message);
      throw new BootstrapError('files', `cannot read the identity in ${dir}: ${what}; run \`tollgate bootstrap\` first`, { cause });
    }
    try {
      return toMaterial(texts[0], texts[1], texts[2], dir);
    } catch (e) {
      // A rotation may be between its renames: one short retry before calling the files bad.
      if (attempt >= 2) throw new BootstrapError('files', (e as Error).message, { cause: e });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
