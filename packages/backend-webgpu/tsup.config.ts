import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // tfjs keeps global registries (kernels, backends, the engine): never bundle it; nor @advx/core.
  external: [/^@tensorflow\//, /^@advx\/core/],
});
