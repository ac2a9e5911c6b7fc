import { defineConfig } from 'vitest/config';

/** The built site's tests (`npm run docs` runs them after building docs/.vitepress/dist). */
export default defineConfig({
  test: {
    include: ['docs/site-tests/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
