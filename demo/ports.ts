import net from 'node:net';

/**
 * `n` distinct free loopback ports. The gateway's config must name its agents' upstream ports before the
 * agents can start (they need the running gateway to get their identity), so ports are picked up front:
 * all `n` are held open together (no duplicates), then released for their real owners a moment later.
 */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, host, () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()))));
  }
}
