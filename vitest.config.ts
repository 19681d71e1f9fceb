import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      // property tests run thousands of cases: on a loaded 2-core machine 5 s is too tight (a timeout here guards hangs, not speed)
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 } },
      // each stack synthesis bundles the functions with esbuild: the suites' beforeAll takes longer than vitest's 10 s default on a busy machine
      { test: { name: 'infra', include: ['test/infra/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
