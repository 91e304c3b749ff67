import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { spliceConfigReference } from '../../config/readme.js';

describe('README config reference', () => {
  it('is the one generated from config/schema.ts (run `npm run docs` after changing the schema)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(spliceConfigReference(readme)).toBe(readme);
  });
});
