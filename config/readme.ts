/**
 * Keeps README.md's config reference generated from the schema: `npm run docs` rewrites the block between
 * the CONFIG-REFERENCE markers; test/config/readme.test.ts fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { renderConfigReference } from './docs.js';

const BEGIN = '<!-- CONFIG-REFERENCE:BEGIN -->';
const END = '<!-- CONFIG-REFERENCE:END -->';

export function spliceConfigReference(readme: string): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${BEGIN} ... ${END} block`);
  return `${readme.slice(0, a + BEGIN.length)}\n${renderConfigReference().trim()}\n${readme.slice(b)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md');
  writeFileSync(file, spliceConfigReference(readFileSync(file, 'utf8')));
  console.error(`config reference written to ${file}`);
}
