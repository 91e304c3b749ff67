/**
 * Connection caps as the listeners apply them: the configured `connections` values, lowered to fit the
 * process's open-file limit. Every accepted connection is a file descriptor, and the proxy needs more of them
 * for its upstream calls, the CA's database and the audit log. With separate budgets a flood on the control
 * port (no certificate needed there) runs into its own cap long before the process runs out of descriptors,
 * so proxy calls keep working.
 */
import fs from 'node:fs';
import type { Config } from './schema.js';

/** Share of the open-file limit each listener may take at most (the rest: upstream sockets, files, admins). */
export const PROXY_SHARE = 1 / 2;
export const CONTROL_UNAUTHENTICATED_SHARE = 1 / 8;

export interface ConnectionCaps {
  proxy: number;
  controlUnauthenticated: number;
}

/** The soft RLIMIT_NOFILE from /proc (Linux); undefined where it cannot be read (then no lowering). */
export function readOpenFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
}

// The limit cannot change under a running process except through prlimit from outside: read it once.
let processLimit: number | undefined | null = null;
function processOpenFileLimit(): number | undefined {
  if (processLimit === null) processLimit = readOpenFileLimit();
  return processLimit;
}

export function connectionCaps(config: Pick<Config, 'connections'>, openFileLimit = processOpenFileLimit()): ConnectionCaps {
  const cap = (configured: number, share: number) =>
    openFileLimit === undefined ? configured : Math.max(1, Math.min(configured, Math.floor(openFileLimit * share)));
  return {
    proxy: cap(config.connections.proxy, PROXY_SHARE),
    controlUnauthenticated: cap(config.connections.controlUnauthenticated, CONTROL_UNAUTHENTICATED_SHARE),
  };
}
