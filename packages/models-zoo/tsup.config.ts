import { defineConfig } from 'tsup';

export default defineConfig({
  // `#platform` (package.json `imports`): node:fs where the `node` condition holds, fetch and Web
  // Crypto for bundlers targeting browsers; both are built and left to the resolver.
  entry: { index: 'src/index.ts', 'platform-node': 'src/platform-node.ts', 'platform-browser': 'src/platform-browser.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // `import.meta.url` is used to find the package folder (shipped data/ and models/); the shim
  // makes it work in the CommonJS build too (tsup derives it from __filename there; in a browser,
  // from the script's URL).
  shims: true,
  // tfjs keeps global registries and @advx/core owns AdvxError: never bundle them.
  external: [/^@tensorflow\//, /^@advx\/core$/, /^#platform$/],
});
