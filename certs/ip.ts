import { isIP, isIPv4 } from 'node:net';

/**
 * `net.isIP(s)`: 4, 6 or 0. Asked first whether `s` has a ':', so a host name (`localhost`) is not run
 * through node's IPv6 pattern: that regular expression is large, and its first use compiles ~100 KB of
 * regexp code held for the life of the process (found in an idle gateway's heap, docs/performance.md
 * Session 7). Every IPv6 address has a ':'; names and IPv4 addresses have none.
 */
export function ipFamily(s: string): 0 | 4 | 6 {
  if (s.includes(':')) return isIP(s) as 0 | 4 | 6;
  return isIPv4(s) ? 4 : 0;
}
