/**
 * `node --import ./record-loads.mjs <entry>`: prints, at exit, every module the process loaded, as one JSON
 * array of URLs/paths on stdout. ESM imports are seen by a resolve hook (module.register, which runs on
 * its own thread and reports over a port); require() calls made inside CommonJS packages do not go through
 * ESM hooks on Node 20, so require.cache is added at the end.
 */
import { register, createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
const seen = new Set();
let flushed;
port1.on('message', (m) => {
  if (m === 'flushed') flushed?.();
  else seen.add(m);
});
register('./record-loads-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });

/** Resolves once every URL the hooks thread reported before now has arrived (one port: in order). */
globalThis.__recordLoadsFlush = () =>
  new Promise((resolve) => {
    flushed = resolve;
    port1.postMessage('flush');
  });

globalThis.__recordLoadsList = () => {
  const cjs = Object.keys(createRequire(import.meta.url).cache);
  port1.close();
  return [...seen, ...cjs];
};
