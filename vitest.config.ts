import { defineConfig } from 'vitest/config';

const conditions = ['@advx/source', 'module', 'import', 'node', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@advx/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    setupFiles: ['./vitest.setup.ts'],
    // tfjs ships extensionless ESM; let Vite resolve it, and keep one copy of the tfjs engine.
    server: { deps: { inline: [/@tensorflow\//] } },
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
