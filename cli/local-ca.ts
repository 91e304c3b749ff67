/**
 * For a set-up on one machine: the CLI opens the gateway's own CA (the data dir, or the fleet's store) to make
 * a join token and read the root fingerprint, so `admin init` and `agent run` need no copy-paste of either.
 * Safe while `tollgate serve` runs (as `token create` is).
 */
import { existsSync } from 'node:fs';
import { CaKeyFiles } from '../ca/keys/file-store.js';
import type { CertificateAuthority } from '../ca/api.js';
import type { Config } from '../config/schema.js';
import { CliError } from './errors.js';
import { openCa } from './open-ca.js';
import { formatHostPort, parseHostPort } from '../control/listen.js';

/** a listen address as a client on this machine reaches it (0.0.0.0 / :: -> loopback) */
export function localAddress(listen: string): string {
  const { host, port } = parseHostPort(listen);
  return formatHostPort(host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host, port);
}

/** A token from a CA that does not exist yet could never be redeemed: refuse rather than create one. */
export function assertCaExists(dataDir: string): void {
  if (!existsSync(new CaKeyFiles(dataDir).rootFile)) {
    throw new CliError(`no CA in ${dataDir}`, 'run `tollgate ca init` (or `tollgate serve`) first, or pass --data-dir');
  }
}

/** Opens the existing CA, runs `use`, closes it. */
export async function withLocalCa<T>(config: Config, dataDir: string, use: (ca: CertificateAuthority) => Promise<T>): Promise<T> {
  assertCaExists(dataDir);
  const ca = await openCa(config, dataDir);
  try {
    return await use(ca);
  } finally {
    await ca.close();
  }
}

/** A single-use join token for `spiffeId` (2 minutes: it is redeemed at once) and the root fingerprint to pin. */
export function localJoinToken(config: Config, dataDir: string, spiffeId: string): Promise<{ token: string; fingerprint: string }> {
  return withLocalCa(config, dataDir, async (ca) => ({ token: (await ca.createJoinToken(spiffeId, 120_000)).token, fingerprint: ca.rootFingerprint() }));
}
