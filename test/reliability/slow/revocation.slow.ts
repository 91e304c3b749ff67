import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild, sid, percentile, envNum, type ChildGateway } from './child.js';
import { report, RPC } from '../helpers.js';

/**
 * Revocation latency: an agent keeps one keep-alive mTLS connection busy (a request as soon as the last
 * answered); `tollgate ctl revoke --spiffe-id` (the CLI code, in-process, over the admin API) is called;
 * the figure is the time from the start of the revoke command to the first 403 on that same connection.
 * REDTEAM_REVOKE_TRIALS trials (default 10), each with a fresh identity.
 */
let g: ChildGateway;
beforeAll(async () => {
  g = await startChild();
});
afterAll(async () => g?.cleanup());

describe('red team (slow): revocation latency on an open connection', () => {
  it('every trial gets its 403 on the open connection within 1.5 s of the revoke command', async () => {
    const trials = envNum('REDTEAM_REVOKE_TRIALS', 10);
    const lat: number[] = [];
    const ctlMs: number[] = [];
    for (let i = 0; i < trials; i++) {
      const me = await g.enroll(sid(`user/rev-${i}`));
      const c = new Client(`https://127.0.0.1:${g.proxyPort}`, {
        connect: { key: me.keyPem, cert: me.certChainPem, ca: me.bundlePem, servername: 'localhost' },
        pipelining: 1,
      });
      let sockets = 0;
      c.on('connect', () => sockets++);
      const send = async () => {
        const r = await c.request({ path: '/a2a/echo/', method: 'POST', headers: { 'content-type': 'application/json' }, body: RPC(i) });
        await r.body.text();
        return r.statusCode;
      };
      try {
        expect(await send()).toBe(200);
        const t0 = performance.now();
        let status = 200;
        let revoked = false;
        const revoke = g.ctl('revoke', '--spiffe-id', me.spiffeId).then((r) => {
          ctlMs.push(performance.now() - t0);
          expect(r.code, r.err).toBe(0);
          revoked = true;
        });
        const deadline = t0 + 10_000;
        while (status === 200 && performance.now() < deadline) status = await send();
        const ms = performance.now() - t0;
        await revoke;
        expect(revoked).toBe(true);
        expect(status).toBe(403);
        expect(sockets).toBe(1); // the same connection all along
        lat.push(ms);
      } finally {
        await c.close();
      }
    }
    lat.sort((a, b) => a - b);
    const figures = {
      trials,
      p50_ms: Math.round(percentile(lat, 50)),
      max_ms: Math.round(lat[lat.length - 1]),
      ctl_p50_ms: Math.round(
        percentile(
          [...ctlMs].sort((a, b) => a - b),
          50,
        ),
      ),
    };
    report('revocation_latency', figures);
    expect(lat[lat.length - 1]).toBeLessThan(1_500);
  });
});
