import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'register-gradients': 'src/register-gradients.ts',
    'testing/index': 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // tfjs-core keeps global registries: never bundle it. Its gradient definitions are the one
  // exception (see src/gradients.ts): they are registered into the shared global registry.
  external: ['@advx/core/register-gradients', /^@tensorflow\/tfjs-core$/, /^@tensorflow\/tfjs-layers/, /^@tensorflow\/tfjs-converter/],
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});
