import { defineConfig } from 'tsup';

export default defineConfig({
  // `#platform` (package.json `imports`) is Node's built-ins where the `node` condition holds and a
  // stand-in without them for bundlers targeting browsers; both are built and left to the resolver.
  entry: { index: 'src/index.ts', 'platform-node': 'src/platform-node.ts', 'platform-browser': 'src/platform-browser.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // `import.meta.url` (used to find the installed tfjs-backend-wasm binaries in Node) in the CJS build.
  shims: true,
  // tfjs keeps global registries (kernels, backends, the engine): never bundle it; nor @advx/core.
  external: [/^@tensorflow\//, /^@advx\/core/, /^#platform$/],
});
