import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild, sid, percentile, envNum, type ChildGateway } from './child.js';
import { report, RPC } from '../helpers.js';

/**
 * Soak: an open-loop load at a fixed rate through the gateway (a child `tollgate serve`) to the echo
 * upstream, with the gateway's RSS sampled every 5 s. Memory must stay flat: RSS at the end within
 * REDTEAM_RSS_MARGIN_MB (default 64) of RSS after warm-up.
 *   REDTEAM_SOAK_S    seconds of load (default 60; the campaign ran 180)
 *   REDTEAM_SOAK_RPS  requests per second (default 1000; the campaign ran 2000)
 * Open loop: requests are started on a 10 ms tick whatever the answers do; at most 4,000 in flight (a tick
 * that finds the cap full counts its requests as "skipped", so a stalled gateway shows up as a low rate).
 */
let g: ChildGateway;
beforeAll(async () => {
  g = await startChild();
});
afterAll(async () => g?.cleanup());

describe('red team (slow): soak', () => {
  it('holds the rate with flat memory', async () => {
    const seconds = envNum('REDTEAM_SOAK_S', 60);
    const rps = envNum('REDTEAM_SOAK_RPS', 1000);
    const marginMb = envNum('REDTEAM_RSS_MARGIN_MB', 64);
    const warmS = Math.max(5, Math.round(seconds * 0.1));
    const me = await g.enroll(sid('user/soak'));
    const pool = new Pool(`https://127.0.0.1:${g.proxyPort}`, {
      connections: 32,
      pipelining: 1,
      connect: { key: me.keyPem, cert: me.certChainPem, ca: me.bundlePem, servername: 'localhost' },
    });
    const body = RPC(1);
    const statuses = new Map<number, number>();
    let errors = 0;
    let inflight = 0;
    let skipped = 0;
    let sent = 0;
    let done = 0;
    const lat: number[] = [];
    const rss: { t: number; mb: number }[] = [{ t: 0, mb: g.rssMb() }];
    const one = () => {
      inflight++;
      sent++;
      const t = performance.now();
      pool
        .request({ path: '/a2a/echo/', method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async (r) => {
          await r.body.dump();
          statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
        })
        .catch(() => {
          errors++;
        })
        .finally(() => {
          inflight--;
          done++;
          if ((done & 15) === 0) lat.push(performance.now() - t); // a 1-in-16 latency sample
        });
    };
    const t0 = performance.now();
    let owed = 0;
    let last = t0;
    let rssStart = NaN;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const now = performance.now();
        owed += ((now - last) / 1000) * rps;
        last = now;
        while (owed >= 1) {
          owed--;
          if (inflight >= 4_000) skipped++;
          else one();
        }
        if (now - t0 >= seconds * 1000) {
          clearInterval(tick);
          clearInterval(sampler);
          resolve();
        }
      }, 10);
      const sampler = setInterval(() => {
        const t = Math.round((performance.now() - t0) / 1000);
        rss.push({ t, mb: g.rssMb() });
        if (Number.isNaN(rssStart) && t >= warmS) rssStart = rss[rss.length - 1].mb;
      }, 5_000);
    });
    const loadMs = performance.now() - t0;
    const drainUntil = performance.now() + 15_000;
    while (inflight > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 50));
    await pool.close();
    const rssEnd = g.rssMb();
    lat.sort((a, b) => a - b);
    const ok = statuses.get(200) ?? 0;
    const figures = {
      seconds,
      target_rps: rps,
      achieved_rps: Math.round(done / (loadMs / 1000)),
      ok,
      non_200: sent - ok - errors,
      errors,
      skipped,
      p50_ms: Number(percentile(lat, 50).toFixed(1)),
      p99_ms: Number(percentile(lat, 99).toFixed(1)),
      rss_mb_before_load: rss[0].mb,
      rss_mb_after_warmup: rssStart,
      rss_mb_end: rssEnd,
      rss_mb_max: Math.max(...rss.map((s) => s.mb), rssEnd),
      rss_series: rss.map((s) => s.mb),
    };
    report('soak', figures);
    expect(errors + figures.non_200 + skipped).toBeLessThanOrEqual(sent * 0.01);
    expect(figures.achieved_rps).toBeGreaterThanOrEqual(rps * 0.8);
    expect(rssEnd - rssStart).toBeLessThan(marginMb);
    expect(g.serve.child.exitCode).toBeNull();
  });
});
