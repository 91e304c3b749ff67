/** Opening the CA from the CLI with the lifetimes from config. */
import { openAuthority } from '../ca/authority.js';
import { authorityOptionsFromConfig } from '../ca/options.js';
import type { CertificateAuthority } from '../ca/api.js';
import type { Config } from '../config/schema.js';

export function openCa(config: Config, dataDir: string, now?: () => number): Promise<CertificateAuthority> {
  return openAuthority(authorityOptionsFromConfig(config, dataDir, now));
}
