import net from 'node:net';
import { inspect } from 'node:util';

/** A port that was free a moment ago on 127.0.0.1 (for programs that need the port on their command line). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * Poll `check` until it returns a value (every 250 ms). On timeout the error names what was awaited, the
 * last failure, and `context()` (e.g. a child process's log).
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last instanceof Error ? String(last) : inspect(last)})` : ''}\n${context()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
