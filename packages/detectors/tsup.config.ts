import { defineConfig } from 'tsup';

// Never bundle tfjs or @advx/*: they keep global registries. fast-png (the PNG encoder of
// renderHeatmapPng, pure JavaScript for Node and browsers) is ESM-only: the ESM build imports it,
// the CommonJS build bundles it (with fflate and iobuffer) so that `require` works on every Node.
const common = {
  entry: { index: 'src/index.ts', 'register-all': 'src/register-all.ts' },
  dts: true,
  sourcemap: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@advx\//],
} as const;

export default defineConfig([
  { ...common, format: ['esm'], clean: true },
  { ...common, format: ['cjs'], clean: false, noExternal: [/^fast-png$/] },
]);
