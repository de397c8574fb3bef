import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Two cores on CI: one worker per core keeps timing-sensitive tests honest.
    maxWorkers: 2,
  },
});
