import net from 'node:net';
import tls from 'node:tls';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild, sid, percentile, envNum, type ChildGateway } from './child.js';
import { report, RPC } from '../helpers.js';
import { bootstrap } from '../../../agent-bootstrap/index.js';
import type { SvidMaterial } from '../../../agent-bootstrap/material.js';

/**
 * Connection floods and slowloris against a child `tollgate serve` (timeouts.headers 5s). Every flood is
 * bounded in count (REDTEAM_FLOOD_CONNS, default 1,000) and time, and torn down by the test.
 */
let g: ChildGateway;
let me: SvidMaterial;
const HEADERS_S = 5;

beforeAll(async () => {
  g = await startChild({ extra: `timeouts: { headers: ${HEADERS_S}s }` });
  me = await g.enroll(sid('user/flood'));
});
afterAll(async () => g?.cleanup());

async function oneCall(): Promise<{ status: number; ms: number }> {
  const t = performance.now();
  const c = new Client(`https://127.0.0.1:${g.proxyPort}`, {
    connect: { key: me.keyPem, cert: me.certChainPem, ca: me.bundlePem, servername: 'localhost', timeout: 10_000 },
    headersTimeout: 10_000,
  });
  try {
    const r = await c.request({ path: '/a2a/echo/', method: 'POST', headers: { 'content-type': 'application/json' }, body: RPC(1) });
    await r.body.dump();
    return { status: r.statusCode, ms: Math.round(performance.now() - t) };
  } finally {
    await c.close();
  }
}

/** Open `n` idle TCP connections (no bytes sent), in batches; returns them and how many connected. */
async function idleFlood(port: number, n: number): Promise<net.Socket[]> {
  const socks: net.Socket[] = [];
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from(
        { length: Math.min(100, n - i) },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect({ host: '127.0.0.1', port });
            s.on('error', () => undefined);
            s.once('connect', () => resolve());
            s.once('close', () => resolve());
            setTimeout(resolve, 3_000);
            socks.push(s);
          }),
      ),
    );
  }
  return socks;
}

function closedCount(socks: net.Socket[]): number {
  return socks.filter((s) => s.destroyed || s.readyState === 'closed' || s.readableEnded).length;
}

describe('red team (slow): idle connection floods', () => {
  it('1,000 idle TCP connections on the proxy port: a real call still succeeds, and the idle ones are dropped', async () => {
    const n = envNum('REDTEAM_FLOOD_CONNS', 1000);
    const socks = await idleFlood(g.proxyPort, n);
    try {
      const open = socks.filter((s) => !s.destroyed).length;
      const call = await oneCall();
      // the handshake timeout (timeouts.headers) then drops them
      const deadline = performance.now() + (HEADERS_S + 35) * 1000;
      while (closedCount(socks) < socks.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      const figures = {
        target: 'proxy',
        connections: n,
        open_at_call: open,
        call_status: call.status,
        call_ms: call.ms,
        dropped_by_gateway: closedCount(socks),
      };
      report('idle_flood_proxy', figures);
      expect(call.status).toBe(200);
      expect(figures.dropped_by_gateway).toBe(socks.length);
    } finally {
      for (const s of socks) s.destroy();
    }
  });
});

describe('red team (slow): idle connection flood on the control port', () => {
  let outcome = '';
  let dropped = 0;
  let n = 0;
  beforeAll(async () => {
    n = envNum('REDTEAM_FLOOD_CONNS', 1000);
    const token = await g.token(sid('user/after-control-flood'));
    const socks = await idleFlood(Number(g.control.split(':')[1]), n);
    try {
      const t = performance.now();
      outcome = 'ok';
      try {
        await Promise.race([
          bootstrap({ server: g.control, token, fingerprint: g.fp }),
          new Promise((_, rej) => setTimeout(() => rej(new Error('bootstrap took over 5 s')), 5_000)),
        ]);
      } catch (e) {
        outcome = (e as Error).message.slice(0, 120);
      }
      const ms = Math.round(performance.now() - t);
      // like the proxy's handshake timeout, idle connections that never start TLS should be dropped
      const deadline = performance.now() + (HEADERS_S + 35) * 1000;
      while (closedCount(socks) < socks.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      dropped = closedCount(socks);
      report('idle_flood_control', { target: 'control', connections: n, bootstrap: outcome, bootstrap_ms: ms, dropped_by_gateway_within_40s: dropped });
    } finally {
      for (const s of socks) s.destroy();
    }
  }, 120_000);

  it('a bootstrap still succeeds within 5 s while 1,000 idle TCP connections sit on the control port', () => {
    expect(outcome).toBe('ok');
  });

  it('the control port drops idle connections that never start TLS (within 40 s)', () => {
    expect(dropped).toBe(n);
  });
});

describe('red team (slow): slowloris', () => {
  const N = envNum('REDTEAM_SLOWLORIS_CONNS', 200);
  const closeMs: number[] = [];
  let during: { status: number; ms: number } | undefined;
  let stillOpen = 0;

  beforeAll(async () => {
    // N mTLS connections each trickling one header byte per second, for at most 40 s
    const head = `POST /a2a/echo/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Slow: ${'x'.repeat(200)}`;
    const t0 = performance.now();
    const socks: tls.TLSSocket[] = [];
    await Promise.all(
      Array.from(
        { length: N },
        () =>
          new Promise<void>((resolve) => {
            const s = tls.connect({ host: '127.0.0.1', port: g.proxyPort, key: me.keyPem, cert: me.certChainPem, ca: me.bundlePem, servername: 'localhost' });
            s.on('error', () => undefined);
            s.once('secureConnect', () => resolve());
            s.once('close', () => {
              closeMs.push(performance.now() - t0);
              resolve();
            });
            socks.push(s);
          }),
      ),
    );
    let i = 0;
    const trickle = setInterval(() => {
      for (const s of socks) if (!s.destroyed && i < head.length) s.write(head[i]);
      i++;
    }, 1_000);
    await new Promise((r) => setTimeout(r, 2_000));
    during = await oneCall();
    const until = t0 + 40_000;
    while (closeMs.length < N && performance.now() < until) await new Promise((r) => setTimeout(r, 250));
    clearInterval(trickle);
    stillOpen = socks.filter((s) => !s.destroyed).length;
    for (const s of socks) s.destroy();
    const sorted = [...closeMs].sort((a, b) => a - b);
    report('slowloris', {
      connections: N,
      headers_timeout_s: HEADERS_S,
      call_during_status: during.status,
      call_during_ms: during.ms,
      closed_by_gateway: sorted.length,
      still_open_after_40s: stillOpen,
      close_p50_s: Number((percentile(sorted, 50) / 1000).toFixed(1)),
      close_max_s: Number(((sorted[sorted.length - 1] ?? NaN) / 1000).toFixed(1)),
    });
  }, 120_000);

  it('the proxy keeps serving while 200 slowloris connections are open', () => {
    expect(during?.status).toBe(200);
  });

  it('every slowloris connection is closed within timeouts.headers + 5 s', () => {
    expect(stillOpen).toBe(0);
    expect(Math.max(...closeMs)).toBeLessThan((HEADERS_S + 5) * 1000);
  });
});
