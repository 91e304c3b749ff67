/**
 * Issuance throughput of the built-in CA on one core: CSR proof-of-possession check + signing + the
 * SQLite writes (token consumption and the issued record), through the public bootstrap() (or renew()).
 * CSRs and join tokens are made outside the measured sections; CPU time comes from process.cpuUsage().
 *
 *   node dist/bench/issuance.js [seconds] [bootstrap|renew] [concurrency]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { openAuthority } from '../ca/authority.js';
import { PostgresCaStore } from '../ca/store/postgres.js';
import { openPostgres } from '../database/postgres.js';
import { p256Csr } from './csr.js';
import type { ValidatedSvid } from '../certs/svid.js';

export interface IssuanceBenchResult {
  certsPerSecond: number;
  cpuUsPerCert: number;
  n: number;
  /**
   * CPU µs of the bare crypto one certificate needs (import the CSR key, verify the CSR, sign), measured in
   * the same process right after: the floor, and a yardstick on a noisy shared machine.
   */
  cryptoFloorUsPerCert: number;
}

/** CPU per certificate of node:crypto alone: public key import (JWK) + ECDSA verify + ECDSA sign. */
function cryptoFloor(rounds: number): number {
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const data = Buffer.alloc(420, 7);
  const keys = Array.from({ length: 64 }, () => {
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { jwk: k.publicKey.export({ format: 'jwk' }), sig: sign('sha256', data, k.privateKey) };
  });
  const c0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) {
    const k = keys[i % keys.length];
    verify('sha256', data, createPublicKey({ key: k.jwk, format: 'jwk' }), k.sig);
    sign('sha256', data, signer);
  }
  const c = process.cpuUsage(c0);
  return Math.round(((c.user + c.system) / rounds) * 10) / 10;
}

const BATCH = 250;

export interface IssuanceBenchOptions {
  /** measured time (default 3 s) */
  seconds?: number;
  /** bootstrap: join token + CSR (default); renew: CSR for an already validated peer */
  mode?: 'bootstrap' | 'renew';
  /** requests in flight at once, as a control server serving many agents sees them (default 16; 1 = sequential) */
  concurrency?: number;
  /** a PostgreSQL URL (an empty database of the bench's own): the shared store instead of SQLite */
  store?: string;
}

export async function runIssuanceBench(opts: IssuanceBenchOptions = {}): Promise<IssuanceBenchResult> {
  const seconds = opts.seconds ?? 3;
  const mode = opts.mode ?? 'bootstrap';
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 16, BATCH));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-ca-'));
  const db = opts.store === undefined ? undefined : await openPostgres(opts.store);
  const ca = await openAuthority({ dataDir, trustDomain: 'bench.local', store: db && new PostgresCaStore(db) });
  try {
    const id = 'spiffe://bench.local/agent/bench';
    const csrs = Array.from({ length: 1000 }, p256Csr);
    const peer: ValidatedSvid = {
      id: { trustDomain: 'bench.local', path: '/agent/bench', uri: id },
      serial: '1',
      notBefore: 0,
      notAfter: Date.now() + 3_600_000,
    };
    // warm-up: JIT, prepared statements, first WAL pages
    for (let i = 0; i < 50; i++) await ca.renew(peer, csrs[i]);

    let n = 0;
    let wallNs = 0n;
    let cpuUs = 0;
    let next = 0;
    while (wallNs < BigInt(seconds * 1e9)) {
      const tokens: string[] = [];
      if (mode === 'bootstrap') for (let i = 0; i < BATCH; i++) tokens.push((await ca.createJoinToken(id)).token);
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < BATCH; i += concurrency) {
        const inFlight: Promise<unknown>[] = [];
        for (let j = i; j < Math.min(i + concurrency, BATCH); j++) {
          const csr = csrs[next++ % csrs.length];
          inFlight.push(mode === 'bootstrap' ? ca.bootstrap(tokens[j], csr) : ca.renew(peer, csr));
        }
        await Promise.all(inFlight);
      }
      wallNs += process.hrtime.bigint() - t0;
      const cpu = process.cpuUsage(cpu0);
      cpuUs += cpu.user + cpu.system;
      n += BATCH;
    }
    return {
      certsPerSecond: Math.round(n / (Number(wallNs) / 1e9)),
      cpuUsPerCert: Math.round((cpuUs / n) * 10) / 10,
      n,
      cryptoFloorUsPerCert: cryptoFloor(Math.min(n, 2000)),
    };
  } finally {
    await ca.close();
    await db?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const seconds = Number(process.argv[2] ?? 3);
  const mode = process.argv[3] === 'renew' ? 'renew' : 'bootstrap';
  const concurrency = Number(process.argv[4] ?? 16);
  const r = await runIssuanceBench({ seconds, mode, concurrency });
  console.log(
    `issuance (${mode}, ${concurrency} in flight): ${r.certsPerSecond} certificates/s wall, ${r.cpuUsPerCert} µs CPU per certificate (${Math.round(1e6 / r.cpuUsPerCert)}/s per core), n=${r.n}; bare crypto floor ${r.cryptoFloorUsPerCert} µs`,
  );
}
