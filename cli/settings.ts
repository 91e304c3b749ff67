/**
 * Config and data directory resolution shared by the commands:
 * --config FILE (else built-in defaults) -> --data-dir wins over config.dataDir, else ./.tollgate;
 * --trust-domain wins over config.trustDomain.
 */
import path from 'node:path';
import { loadConfigFile, parseConfig } from '../config/load.js';
import { storeUrl, type Config } from '../config/schema.js';
import { parseTrustDomain } from '../certs/spiffe-id.js';
import { CliError } from './errors.js';

import { DEFAULT_DATA_DIR } from './defaults.js';

export { DEFAULT_DATA_DIR };

/**
 * --store wins over TOLLGATE_STORE, which wins over the config's `store`; checked with the config schema's
 * own rule so the message is the same wherever the URL came from.
 */
function resolveStore(config: Config, flag: string | undefined): string | undefined {
  const env = process.env.TOLLGATE_STORE;
  const [value, from] = flag !== undefined ? [flag, '--store'] : env !== undefined && env !== '' ? [env, 'TOLLGATE_STORE'] : [config.store, 'store'];
  if (value === undefined) return undefined;
  const r = storeUrl.safeParse(value);
  if (!r.success) throw new CliError(`${from}: ${r.error.issues[0]?.message ?? 'invalid'}`, 'leave it out to keep the state in the data dir (SQLite)', 2);
  return r.data;
}

export function loadSettings(values: { config?: string; 'data-dir'?: string; 'trust-domain'?: string; store?: string }): {
  config: Config;
  dataDir: string;
} {
  const raw = values.config ? loadConfigFile(values.config) : parseConfig({}, 'default config');
  let config = raw;
  if (values['trust-domain'] !== undefined) {
    try {
      config = { ...raw, trustDomain: parseTrustDomain(values['trust-domain']) };
    } catch (e) {
      throw new CliError(`--trust-domain: ${(e as Error).message}`, 'use lowercase letters, digits, ".", "-" and "_" only, e.g. tollgate.local', 2);
    }
  }
  const dataDir = path.resolve(values['data-dir'] ?? config.dataDir ?? DEFAULT_DATA_DIR);
  const store = resolveStore(config, values.store);
  if (store !== config.store) config = { ...config, store };
  return { config, dataDir };
}
