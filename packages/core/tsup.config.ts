import { defineConfig } from 'tsup';

// tfjs-core keeps global registries: never bundle it. Its gradient definitions are the one
// exception, and only where Node loads them: tfjs-core's `dist/register_all_gradients.js` is ESM
// with extensionless imports, which Node cannot load, so the Node entries of
// `@advx/core/register-gradients` (`register-gradients.node.js`, `register-gradients.cjs`) carry a
// bundled copy that registers into the shared global registry. Bundlers (browsers) get
// `register-gradients.js`, which imports tfjs-core's own module instead (about 140 KB less).
//
// The ESM build keeps one output file per source file (no bundling): an app that imports one
// function gets only the modules it reaches, since bundlers drop whole side-effect-free modules
// but cannot drop a top-level call such as `defineAttack(...)` inside a shared chunk.
const external = ['@advx/core/register-gradients', /^@tensorflow\/tfjs-core$/, /^@tensorflow\/tfjs-layers/, /^@tensorflow\/tfjs-converter/];
const publicEntries = {
  index: 'src/index.ts',
  'register-gradients': 'src/register-gradients.ts',
  'testing/index': 'src/testing/index.ts',
  'plugin/index': 'src/plugin/index.ts',
};

export default defineConfig([
  {
    entry: ['src/**/*.ts', '!src/**/*.test.ts'],
    bundle: false,
    format: ['esm'],
    dts: { entry: publicEntries },
    clean: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    entry: { 'register-gradients.node': 'src/register-gradients.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'es2022',
    external,
    noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
  },
  {
    entry: publicEntries,
    format: ['cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
    external,
    noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
  },
]);
