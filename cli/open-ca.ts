/** Opening the CA from the CLI with the lifetimes from config. */
import { openAuthority } from '../ca/authority.js';
import { authorityOptionsFromConfig } from '../ca/options.js';
import type { CertificateAuthority } from '../ca/api.js';
import type { Config } from '../config/schema.js';

/**
 * `recreateStore`: the command's --recreate-store (open a CA whose database is missing or new). With
 * `config.store` set, the CA's records are in that shared database; closing the CA closes it.
 */
export async function openCa(config: Config, dataDir: string, opts: { now?: () => number; recreateStore?: boolean } = {}): Promise<CertificateAuthority> {
  const options = { ...authorityOptionsFromConfig(config, dataDir, opts.now), recreateStore: opts.recreateStore };
  if (config.store === undefined) return openAuthority(options);
  const [{ openPostgres }, { PostgresCaStore }] = await Promise.all([import('../database/postgres.js'), import('../ca/store/postgres.js')]);
  const db = await openPostgres(config.store, { max: 2, applicationName: 'tollgate-cli' });
  try {
    return await openAuthority({ ...options, store: new PostgresCaStore(db, { ownsDatabase: true }) });
  } catch (e) {
    await db.close();
    throw e;
  }
}
