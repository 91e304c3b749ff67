/** Opening the CA from the CLI with the lifetimes from config. */
import { openAuthority } from '../ca/authority.js';
import { authorityOptionsFromConfig } from '../ca/options.js';
import type { CertificateAuthority } from '../ca/api.js';
import type { Config } from '../config/schema.js';

/** `recreateStore`: the command's --recreate-store (open a CA whose database is missing or new). */
export function openCa(config: Config, dataDir: string, opts: { now?: () => number; recreateStore?: boolean } = {}): Promise<CertificateAuthority> {
  return openAuthority({ ...authorityOptionsFromConfig(config, dataDir, opts.now), recreateStore: opts.recreateStore });
}
