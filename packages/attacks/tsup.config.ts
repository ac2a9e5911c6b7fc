import { defineConfig } from 'tsup';

// Never bundle tfjs or @advx/core: they keep global registries.
const external = [/^@tensorflow\//, /^@advx\//];
const publicEntries = { index: 'src/index.ts', 'register-all': 'src/register-all.ts' };

export default defineConfig([
  // ESM: one output file per source file, so that an app importing `fgsm` bundles only the modules
  // fgsm reaches (bundlers drop side-effect-free modules whole, but not a top-level
  // `defineAttack(...)` call inside a chunk shared by every attack).
  {
    entry: ['src/**/*.ts', '!src/**/*.test.ts'],
    bundle: false,
    format: ['esm'],
    dts: { entry: publicEntries },
    clean: true,
    sourcemap: true,
    target: 'es2022',
  },
  { entry: publicEntries, format: ['cjs'], dts: true, sourcemap: true, target: 'es2022', external },
]);
