import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteCaStore } from '../../ca/store/sqlite.js';
import type { CaStore } from '../../ca/store/types.js';
import { caStoreContract } from '../contracts/ca-store.js';
import { removeTempDirs, tempDir } from './helpers.js';

const stores: CaStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  removeTempDirs();
});

function openStore(file: string): SqliteCaStore {
  const s = new SqliteCaStore(file);
  stores.push(s);
  return s;
}

function removeDb(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
}

caStoreContract('SQLite', () => {
  const file = path.join(tempDir('tollgate-castore-'), 'tollgate.db');
  const store = openStore(file);
  return Promise.resolve({
    store,
    // a second process on the same file, as the CLI beside the server
    reopen: () => Promise.resolve(openStore(file)),
    tokenSerial: (hash: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return Promise.resolve(db.prepare<[string], { serial: string | null }>('SELECT serial FROM tokens WHERE hash = ?').get(hash)?.serial);
      } finally {
        db.close();
      }
    },
    breakIt: () => store.close(),
    loseIt: () => {
      removeDb(file);
      return Promise.resolve();
    },
    intactCacheMs: 0,
  });
});

describe('SQLite CaStore: the file', () => {
  it('assertIntact names the file, and tells deleted from replaced', async () => {
    const file = path.join(tempDir('tollgate-castore-'), 'tollgate.db');
    const s = openStore(file);
    await s.assertIntact();
    // replaced: another file (another inode) at the same path
    fs.renameSync(file, `${file}.moved`);
    new Database(file).close();
    await expect(s.assertIntact()).rejects.toMatchObject({ code: 'storage', message: expect.stringMatching(/tollgate\.db was replaced by another file/) });
    removeDb(file);
    await expect(s.assertIntact()).rejects.toMatchObject({ code: 'storage', message: expect.stringMatching(/tollgate\.db was deleted/) });
    // moved back: intact again
    fs.renameSync(`${file}.moved`, file);
    await s.assertIntact();
  });

  it('a file that is not a database is refused at open with a storage error naming it', () => {
    const file = path.join(tempDir('tollgate-castore-'), 'tollgate.db');
    fs.writeFileSync(file, 'not a database, just text that is long enough to look like a header '.repeat(20));
    expect(() => new SqliteCaStore(file)).toThrow(expect.objectContaining({ code: 'storage', message: expect.stringContaining(file) }));
  });
});

describe('SQLite exclusive sections in one process', () => {
  it('two handles on one file opened by different spellings of its path take turns (no lock wait on the event loop)', async () => {
    const dir = tempDir('tollgate-castore-');
    fs.mkdirSync(path.join(dir, 'sub'));
    const a = openStore(path.join(dir, 'tollgate.db'));
    const b = openStore(`${dir}/./sub/../tollgate.db`);
    const order: string[] = [];
    const section = (s: SqliteCaStore, name: string) =>
      s.exclusive(async (tx) => {
        order.push(`${name} in`);
        await tx.writeMeta(name, '1');
        await new Promise((r) => setTimeout(r, 30)); // hold the lock across a real wait
        order.push(`${name} out`);
      });
    const t0 = Date.now();
    await Promise.all([section(a, 'a'), section(b, 'b')]);
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out']);
    expect(Date.now() - t0).toBeLessThan(2000); // a second BEGIN IMMEDIATE would have waited out busy_timeout (5 s)
    expect(await b.readMeta('a')).toBe('1');
  });
});
