import os from 'node:os';

import { defineConfig } from 'vitest/config';

const conditions = ['@advx/source', 'module', 'import', 'node', 'default'];
// Packages without an exports map (tfjs-layers) resolve through these fields: their ESM build (`module`)
// first. tfjs-layers' `main` is a CommonJS build whose require() loads a second tfjs-core with its own
// serialization registry, so custom layers registered by our sources were unknown to it.
const mainFields = ['module', 'jsnext:main', 'jsnext', 'main'];

export default defineConfig({
  resolve: { conditions, mainFields },
  ssr: { resolve: { conditions, externalConditions: ['@advx/source'], mainFields } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
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
