/** `node --import ./dist/bench/lib/module-hook-register.js`: installs module-hook.js (see there). */
import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

register(new URL('./module-hook.js', import.meta.url));
const require = createRequire(import.meta.url);
process.on('exit', () => {
  const out = process.env.TOLLGATE_MODULE_LIST;
  if (!out) return;
  const cjs = Object.keys(require.cache).map((f) => pathToFileURL(f).href);
  if (cjs.length) appendFileSync(out, cjs.join('\n') + '\n');
});
