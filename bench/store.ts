/**
 * The durable store, SQLite beside PostgreSQL, in one run:
 *   - issuance: certificates per second through bootstrap() (token consumed, CSR verified, signed, recorded
 *     in one transaction) with 16 in flight, and this process's CPU per certificate (the database server's
 *     own CPU is not in it: PostgreSQL runs in its own processes);
 *   - revocation propagation: a second authority on the same store (another process's view: the second
 *     SQLite connection on the data dir, or a second replica on the database) notices a revocation made
 *     through the first: on SQLite within its refresh poll (500 ms by default), on PostgreSQL as the database
 *     announces the write (database/change-feed.ts): time from the revoke call's return to the second's
 *     in-memory isRevoked() saying so.
 * PostgreSQL is the local server (TOLLGATE_BENCH_PG, default postgres://postgres@127.0.0.1:5432/postgres);
 * the bench creates a database of its own and drops it. Unreachable: the PostgreSQL half is skipped.
 *
 *   node dist/bench/store.js [seconds]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openAuthority, type Authority } from '../ca/authority.js';
import { PostgresCaStore } from '../ca/store/postgres.js';
import { openPostgres, type PostgresDatabase } from '../database/postgres.js';
import { runIssuanceBench, type IssuanceBenchResult } from './issuance.js';
import { p256Csr } from './csr.js';
import { BENCH_PG, withTempDatabase } from './lib/pg.js';
import { redactUrl } from '../database/redact.js';

const TD = 'bench.local';

export interface PropagationResult {
  samples: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export interface StoreBenchResult {
  sqlite: { issuance: IssuanceBenchResult; propagation: PropagationResult };
  postgres?: { issuance: IssuanceBenchResult; propagation: PropagationResult };
  /** why the PostgreSQL half did not run */
  postgresSkipped?: string;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** Revoke through `a`, time until `b` (its own poll, default 500 ms) refuses the certificate. */
async function propagation(a: Authority, b: Authority, samples: number): Promise<PropagationResult> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const id = `spiffe://${TD}/agent/p${i}`;
    const { token } = await a.createJoinToken(id);
    const svid = await a.bootstrap(token, p256Csr());
    await a.revokeSerial(svid.serial, 'bench');
    const t0 = performance.now();
    while (!b.isRevoked(svid.serial, id)) await new Promise((r) => setTimeout(r, 1));
    times.push(performance.now() - t0);
    // the loop resumes right after b's poll saw the last one: start the next at a random point of the period
    await new Promise((r) => setTimeout(r, Math.random() * 500));
  }
  times.sort((x, y) => x - y);
  const round = (x: number) => Math.round(x * 10) / 10;
  return { samples, p50Ms: round(pct(times, 0.5)), p95Ms: round(pct(times, 0.95)), maxMs: round(times[times.length - 1]) };
}

async function sqliteHalf(seconds: number, samples: number): Promise<StoreBenchResult['sqlite']> {
  const issuance = await runIssuanceBench({ seconds });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-store-'));
  try {
    const a = await openAuthority({ dataDir, trustDomain: TD });
    const b = await openAuthority({ dataDir, trustDomain: TD });
    try {
      return { issuance, propagation: await propagation(a, b, samples) };
    } finally {
      await a.close();
      await b.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function postgresHalf(seconds: number, samples: number): Promise<NonNullable<StoreBenchResult['postgres']>> {
  // one database per half: the issuance bench's CA and the two replicas' CA are different CAs
  const issuance = await withTempDatabase((url) => runIssuanceBench({ seconds, store: url }));
  return withTempDatabase(async (url) => {
    const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-replica-')));
    const dbs: PostgresDatabase[] = [];
    try {
      dbs.push(await openPostgres(url), await openPostgres(url));
      const a = await openAuthority({ dataDir: dirs[0], trustDomain: TD, store: new PostgresCaStore(dbs[0]) });
      fs.copyFileSync(path.join(dirs[0], 'root-ca.pem'), path.join(dirs[1], 'root-ca.pem'));
      const b = await openAuthority({ dataDir: dirs[1], trustDomain: TD, store: new PostgresCaStore(dbs[1]) });
      try {
        return { issuance, propagation: await propagation(a, b, samples) };
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      for (const db of dbs) await db.close();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });
}

export async function runStoreBench(opts: { seconds?: number; samples?: number } = {}): Promise<StoreBenchResult> {
  const seconds = opts.seconds ?? 3;
  const samples = opts.samples ?? 20;
  const sqlite = await sqliteHalf(seconds, samples);
  try {
    return { sqlite, postgres: await postgresHalf(seconds, samples) };
  } catch (e) {
    return { sqlite, postgresSkipped: `PostgreSQL at ${redactUrl(BENCH_PG)} not usable: ${(e as Error).message}` };
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const r = await runStoreBench({ seconds: Number(process.argv[2] ?? 3) });
  const line = (name: string, h: StoreBenchResult['sqlite']) =>
    console.log(
      `${name.padEnd(10)} issuance ${h.issuance.certsPerSecond} certs/s (${h.issuance.cpuUsPerCert} us CPU/cert in the gateway process); revocation seen by the other process/replica: p50 ${h.propagation.p50Ms} ms, p95 ${h.propagation.p95Ms} ms, max ${h.propagation.maxMs} ms`,
    );
  line('SQLite', r.sqlite);
  if (r.postgres) line('PostgreSQL', r.postgres);
  else console.log(`PostgreSQL skipped: ${r.postgresSkipped}`);
}
