import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests spawn real processes and write real files; two cores here.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.e2e.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        // End-to-end runs drive several processes at full speed (simulator, agent, server);
        // run them one at a time, after the rest, so they measure the product, not contention.
        extends: true,
        test: { name: 'e2e', include: ['test/**/*.e2e.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
