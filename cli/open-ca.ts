/** Opening the CA from the CLI with the lifetimes from config. */
import { openAuthority } from '../ca/authority.js';
import type { CertificateAuthority } from '../ca/api.js';
import type { Config } from '../config/schema.js';

export function openCa(config: Config, dataDir: string, now?: () => number): Promise<CertificateAuthority> {
  return openAuthority({
    dataDir,
    trustDomain: config.trustDomain,
    rootTtlMs: config.ca.rootTtl,
    intermediateTtlMs: config.ca.intermediateTtl,
    svidTtlMs: config.ca.svidTtl,
    tokenTtlMs: config.ca.tokenTtl,
    now,
  });
}
