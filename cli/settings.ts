/**
 * Config and data directory resolution shared by the commands:
 * --config FILE (else built-in defaults) -> --data-dir wins over config.dataDir, else ./.tollgate;
 * --trust-domain wins over config.trustDomain.
 */
import path from 'node:path';
import { loadConfigFile, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { parseTrustDomain } from '../certs/spiffe-id.js';
import { CliError } from './errors.js';

export const DEFAULT_DATA_DIR = '.tollgate';

export function loadSettings(values: { config?: string; 'data-dir'?: string; 'trust-domain'?: string }): { config: Config; dataDir: string } {
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
  return { config, dataDir };
}
