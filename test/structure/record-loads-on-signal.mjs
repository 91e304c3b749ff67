/**
 * `node --import ./record-loads.mjs --import ./record-loads-on-signal.mjs <entry>`: for a process that keeps
 * running (`tollgate serve`). On SIGUSR2 it writes every module loaded so far (record-loads.mjs: ESM
 * resolved URLs, then require.cache) to the file named by RECORD_LOADS_OUT, as one JSON array.
 */
import { writeFileSync } from 'node:fs';

process.on('SIGUSR2', () => {
  void globalThis.__recordLoadsFlush().then(() => writeFileSync(process.env.RECORD_LOADS_OUT, JSON.stringify(globalThis.__recordLoadsList())));
});
