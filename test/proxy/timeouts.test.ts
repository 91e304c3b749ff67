import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import { startHarness, SEND, type Harness } from './harness.js';

/** A raw mTLS connection to the gateway as alice: the tests read and write its bytes themselves. */
function aliceSocket(h: Harness): tls.TLSSocket {
  return tls.connect({ host: '127.0.0.1', port: h.gw.port, key: h.alice.keyPem, cert: h.alice.certChainPem, ca: h.td.bundlePem, ALPNProtocols: ['http/1.1'] });
}

/**
 * Connection timeouts and Expect: 100-continue on the proxy listener, seen from raw TLS sockets (with
 * alice's certificate) that read exactly what the gateway sends and note when it closes the connection.
 */
describe('proxy connection timeouts (headers 1 s, idle 1 s)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ extraConfig: { maxBodyBytes: 4096, timeouts: { headers: '1s', idle: '1s' } } });
  });
  afterAll(async () => h?.close());

  interface Raw {
    socket: tls.TLSSocket;
    /** everything received so far */
    text(): string;
    /** resolves with ms since connect when the gateway closes the connection (or rejects after limitMs) */
    closed(limitMs: number): Promise<number>;
    /** resolves when `re` matches what was received */
    waitFor(re: RegExp, limitMs?: number): Promise<void>;
  }

  async function connect(): Promise<Raw> {
    const socket = aliceSocket(h);
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const t0 = Date.now();
    let received = '';
    let closedAt: number | undefined;
    const waiters = new Set<() => void>();
    const poke = () => waiters.forEach((w) => w());
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      poke();
    });
    socket.on('error', () => undefined); // a reset counts as closed
    socket.on('close', () => {
      closedAt = Date.now() - t0;
      poke();
    });
    const until = (ok: () => boolean, limitMs: number, what: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!ok()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${what} not seen within ${limitMs} ms; received: ${JSON.stringify(received)}`));
        }, limitMs);
        waiters.add(check);
        check();
      });
    return {
      socket,
      text: () => received,
      closed: async (limitMs) => {
        await until(() => closedAt !== undefined, limitMs, 'close');
        return closedAt!;
      },
      waitFor: (re, limitMs = 5000) => until(() => re.test(received), limitMs, String(re)),
    };
  }

  it('closes a slowloris that never finishes its headers within ~1 s of timeouts.headers (not at the next 30 s sweep)', async () => {
    const raw = await connect();
    raw.socket.write('POST /a2a/echo/rpc HTTP/1.1\r\nHost: gateway\r\n');
    // one more header line every 200 ms, never the blank line that ends the headers
    let n = 0;
    const drip = setInterval(() => raw.socket.writable && raw.socket.write(`x-drip-${n++}: 1\r\n`), 200);
    try {
      const at = await raw.closed(3500);
      expect(at).toBeGreaterThanOrEqual(900);
      expect(at).toBeLessThan(3500);
      if (raw.text() !== '') expect(raw.text()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(drip);
      raw.socket.destroy();
    }
  });

  it('closes an idle keep-alive connection about timeouts.idle after its last response', async () => {
    const raw = await connect();
    const body = SEND(1);
    raw.socket.write(
      `POST /a2a/echo/rpc HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await raw.waitFor(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\n/);
    const answeredAt = Date.now();
    try {
      await raw.closed(4000);
      // Node closes 1 s after the advertised Keep-Alive timeout (a buffer against racing clients): ~2 s here
      const idleFor = Date.now() - answeredAt;
      expect(idleFor).toBeGreaterThanOrEqual(800);
      expect(idleFor).toBeLessThan(3500);
      expect(raw.text()).toMatch(/keep-alive/i); // it was a keep-alive connection, closed for idling
    } finally {
      raw.socket.destroy();
    }
  });

  it('answers 413 to an oversized Expect: 100-continue request without sending 100 Continue', async () => {
    const before = h.upstream.requests.length;
    const raw = await connect();
    raw.socket.write('POST /a2a/echo/rpc HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
    try {
      await raw.waitFor(/\r\n\r\n[\s\S]*"too_large"/);
      expect(raw.text()).toMatch(/^HTTP\/1\.1 413 /);
      expect(raw.text()).not.toContain('100 Continue');
      expect(h.upstream.requests.length).toBe(before);
    } finally {
      raw.socket.destroy();
    }
  });

  it('sends 100 Continue to an Expect: 100-continue request within the limit, then forwards it', async () => {
    const before = h.upstream.requests.length;
    const raw = await connect();
    const body = SEND(2);
    raw.socket.write(
      `POST /a2a/echo/rpc HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
    );
    try {
      await raw.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
      raw.socket.write(body);
      await raw.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
      expect(h.upstream.requests.length).toBe(before + 1);
      expect(h.upstream.requests.at(-1)!.body).toBe(body);
    } finally {
      raw.socket.destroy();
    }
  });
});

describe('proxy connection cap (connections.proxy 3)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ extraConfig: { connections: { proxy: 3 } } });
  });
  afterAll(async () => h?.close());

  const open = () =>
    new Promise<{ socket: tls.TLSSocket; admitted: boolean }>((resolve) => {
      const socket = aliceSocket(h);
      socket.on('error', () => resolve({ socket, admitted: false }));
      socket.on('close', () => resolve({ socket, admitted: false }));
      // TLS 1.3: the client finishes before the server has read its certificate; a request proves admission
      socket.once('secureConnect', () => socket.write('GET /a2a HTTP/1.1\r\nHost: gateway\r\n\r\n'));
      socket.once('data', () => resolve({ socket, admitted: true }));
    });

  it('closes connections over the cap on accept; a slot freed is usable again', async () => {
    const held = [await open(), await open(), await open()];
    expect(held.map((c) => c.admitted)).toEqual([true, true, true]);
    const over = await open();
    expect(over.admitted).toBe(false);
    held[0].socket.destroy();
    const deadline = Date.now() + 3000;
    let again = await open();
    while (!again.admitted && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      again = await open();
    }
    expect(again.admitted).toBe(true);
    for (const c of [...held, over, again]) c.socket.destroy();
  });
});
