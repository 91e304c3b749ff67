/** Where the commands look when not told: the addresses and directories of `tollgate serve` with the example config. */
import path from 'node:path';

export const DEFAULT_DATA_DIR = '.tollgate';
/** where `tollgate admin init` writes the admin identity, and where `tollgate ctl` looks for it */
export const DEFAULT_ADMIN_DIR = path.join(DEFAULT_DATA_DIR, 'admin');
export const DEFAULT_CONTROL_SERVER = '127.0.0.1:8444';
export const DEFAULT_METRICS_SERVER = '127.0.0.1:9464';
