/**
 * `node --import ./record-loads.mjs --import ./record-loads-on-signal.mjs <entry>`: for a process that keeps
 * running (`tollgate serve`). On SIGUSR2 it writes every module loaded so far (record-loads.mjs: ESM
 * resolved URLs, then require.cache) to the file named by RECORD_LOADS_OUT, as one JSON array, and first
 * the first date formatting record-date-formatting.mjs saw (or null) to RECORD_LOADS_OUT.dates.
 */
import { writeFileSync } from 'node:fs';

process.on('SIGUSR2', () => {
  void globalThis.__recordLoadsFlush().then(() => {
    // record-date-formatting.mjs, when preloaded too: where a date was first formatted, if it was
    writeFileSync(`${process.env.RECORD_LOADS_OUT}.dates`, JSON.stringify({ first: globalThis.__dateFormatting ?? null }));
    writeFileSync(process.env.RECORD_LOADS_OUT, JSON.stringify(globalThis.__recordLoadsList()));
  });
});
