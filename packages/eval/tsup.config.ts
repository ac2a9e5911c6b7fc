import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // Never bundle tfjs or @advx/*: they keep global registries.
  external: [/^@tensorflow\//, /^@advx\//],
});
