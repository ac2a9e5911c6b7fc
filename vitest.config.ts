import os from 'node:os';

import { defineConfig } from 'vitest/config';

const conditions = ['@advx/source', 'module', 'import', 'node', 'default'];
// tfjs-layers (no exports map) resolves to its CommonJS `main`, which require()s a second tfjs-core with
// its own serialization registry: tests that load custom layers register them in both. `mainFields` with
// 'module' first gives one registry, but made the runs about 25 % slower (measured), so it is not set.

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@advx/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'docs/examples/**/*.test.ts', 'docs/scripts/**/*.test.ts'],
    setupFiles: ['./vitest.setup.ts'],
    // tfjs ships extensionless ESM; let Vite resolve it, and keep one copy of the tfjs engine.
    server: { deps: { inline: [/@tensorflow\//] } },
    pool: 'forks',
    // One fork per core (vitest's default leaves one core idle: a single fork on 2-core CI machines,
    // where most test files are single-threaded; two forks take the cpu run from ~12 to ~7.5 minutes).
    maxWorkers: os.availableParallelism(),
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
