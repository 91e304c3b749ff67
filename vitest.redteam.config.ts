import { defineConfig } from 'vitest/config';

/** `npm run redteam`: the slow red-team cases (docs/redteam.md), one file at a time; never part of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/reliability/slow/**/*.slow.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
