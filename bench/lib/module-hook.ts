/**
 * A module loader hook that lists every module URL resolved through the ESM loader, for "what does this
 * entry point pull in" checks. Use it through `--import <dist>/bench/lib/module-hook-register.js` with
 * TOLLGATE_MODULE_LIST=<file>: each resolved URL is appended to that file, one a line. CommonJS modules that
 * CommonJS code require()s do not pass through ESM hooks on Node 20; module-hook-register.js adds those
 * (require.cache) at exit.
 */
import { appendFileSync } from 'node:fs';

interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string }> {
  const r = await next(specifier, context);
  const out = process.env.TOLLGATE_MODULE_LIST;
  if (out) appendFileSync(out, `${r.url}\n`);
  return r;
}
