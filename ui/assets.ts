import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UiError } from './errors.js';

/**
 * The page's static files. Each is found and checked readable at startup (a missing file is a startup
 * error, not a 500 later) and read once, by its first request: the three are ~460 KB (the graph library
 * alone ~430 KB) that an idle gateway whose page nobody opens would otherwise hold (docs/performance.md
 * "Session 6"). page.html and app.js are plain files next to this module in the source tree; compiled code
 * runs from dist/ui/, which tsc does not copy them to, so the source folder is looked up from there too.
 * The graph library is served from node_modules: nothing is fetched from a CDN.
 */
export interface Asset {
  /** the file's bytes, read on first use and kept */
  readonly body: Buffer;
  contentType: string;
}

export interface UiAssets {
  page: Asset;
  app: Asset;
  /** URL path -> file */
  vendor: Record<string, Asset>;
}

/** The vendored libraries the page loads, by the URL path it uses. */
export const VENDOR = { '/ui/vendor/cytoscape.min.js': 'cytoscape/dist/cytoscape.min.js' } as const;

function uiDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [here, path.resolve(here, '../../ui')]) {
    if (existsSync(path.join(dir, 'page.html'))) return dir;
  }
  throw new UiError('assets', `graph page files not found next to ${here} (expected ui/page.html)`);
}

function cannotRead(file: string, err: unknown): UiError {
  return new UiError('assets', `cannot read graph page file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
}

function read(file: string, contentType: string): Asset {
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    throw cannotRead(file, err);
  }
  let body: Buffer | undefined;
  return {
    contentType,
    get body() {
      try {
        return (body ??= readFileSync(file));
      } catch (err) {
        throw cannotRead(file, err);
      }
    },
  };
}

export function loadAssets(): UiAssets {
  const dir = uiDir();
  const require = createRequire(import.meta.url);
  const vendor: Record<string, Asset> = {};
  for (const [urlPath, spec] of Object.entries(VENDOR)) {
    let file: string;
    try {
      file = require.resolve(spec);
    } catch (err) {
      throw new UiError('assets', `graph library ${spec} is not installed (npm install)`, { cause: err });
    }
    vendor[urlPath] = read(file, 'text/javascript; charset=utf-8');
  }
  return {
    page: read(path.join(dir, 'page.html'), 'text/html; charset=utf-8'),
    app: read(path.join(dir, 'app.js'), 'text/javascript; charset=utf-8'),
    vendor,
  };
}
