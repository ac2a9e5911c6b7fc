import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // `import.meta.url` is used to find the package folder (shipped data/ and models/); the shim
  // makes it work in the CommonJS build too (tsup derives it from __filename there).
  shims: true,
  // tfjs keeps global registries and @advx/core owns AdvxError: never bundle them.
  external: [/^@tensorflow\//, /^@advx\/core$/],
});
