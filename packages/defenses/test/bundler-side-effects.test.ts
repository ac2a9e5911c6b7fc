/**
 * `import '@advx/defenses'` registers the BoundedLeakyReLU layer with tfjs (the zoo's
 * mnist-cnn-blrelu needs it). The package's `sideEffects` must keep that bare import in bundles:
 * bundlers drop a bare import of a module marked side-effect free, and the layer then is not
 * registered. Checked with esbuild on the sources and, when built, on dist/ (ESM and CJS).
 */
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function bundleBareImport(conditions: string[], format: 'esm' | 'cjs') {
  const out = await build({
    stdin: { contents: "import '@advx/defenses';", resolveDir: root, loader: 'ts' },
    bundle: true,
    write: false,
    platform: 'node',
    format,
    conditions,
    mainFields: format === 'esm' ? ['module', 'main'] : ['main'],
    external: ['@tensorflow/*'],
    logLevel: 'silent',
  });
  // Only this package's files count: core's dist has a bare import of esbuild's helper chunk, which is rightly dropped.
  const dropped = out.warnings.filter((w) => w.id === 'ignored-bare-import' && /defenses[\\/]/.test(`${w.text} ${w.location?.file ?? ''}`));
  return { dropped: dropped.map((w) => w.text), code: out.outputFiles[0]?.text ?? '' };
}

describe("bundlers keep `import '@advx/defenses'` (BoundedLeakyReLU registration)", () => {
  it('from the sources', async () => {
    const { dropped, code } = await bundleBareImport(['@advx/source'], 'esm');
    expect(dropped).toEqual([]);
    expect(code).toMatch(/registerClass\(BoundedLeakyReLU\)/);
  });

  it.skipIf(!existsSync(join(root, 'dist', 'index.js')))('from dist/ (ESM and CJS; skipped before `npm run build`)', async () => {
    for (const format of ['esm', 'cjs'] as const) {
      const { dropped, code } = await bundleBareImport([], format);
      expect(dropped).toEqual([]);
      expect(code).toMatch(/registerClass\(BoundedLeakyReLU\)/);
    }
  });
});
