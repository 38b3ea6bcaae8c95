import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration files share one Redis and one ClickHouse; each uses its own key prefix
    // and database, but running them one at a time keeps a 2-core machine honest.
    fileParallelism: false,
    // Deletes each file's Redis key prefixes when it ends (local Redis grew by GBs without it).
    setupFiles: ['test/helpers/drop-test-prefixes.ts'],
  },
});
