import { defineConfig } from 'tsup';

// Never bundle tfjs or @advx/*: they keep global registries. d3-scale/d3-shape are ESM-only, so
// they are bundled (small, stateless) for the CommonJS build to work.
const common = {
  dts: true,
  sourcemap: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@advx\//],
  noExternal: [/^d3-/],
} as const;

export default defineConfig([
  { ...common, entry: { index: 'src/index.ts', node: 'src/node.ts' }, format: ['esm', 'cjs'], clean: true },
  // The command (top-level await): ESM only.
  { ...common, entry: { cli: 'src/cli.ts' }, format: ['esm'], dts: false, clean: false },
]);
