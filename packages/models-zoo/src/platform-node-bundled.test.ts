/**
 * Bundled into an application's own file (esbuild, like the docs' gallery script), the Node side of
 * the zoo finds its package folder by resolving `@advx/models-zoo/package.json` from the bundle, since
 * no folder above the bundle is the package.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

import { readModelCard } from './models.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
// Inside the repository's node_modules: above it no package.json is @advx/models-zoo's, but the package resolves from there.
const dir = path.join(root, 'node_modules', '.cache', `advx-zoo-bundle-${process.pid}`);

describe('models-zoo bundled into another file', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a model card through the installed package', async () => {
    mkdirSync(dir, { recursive: true });
    const entry = path.join(dir, 'entry.mjs');
    writeFileSync(
      entry,
      "import { readModelCard } from '@advx/models-zoo';\nconst card = await readModelCard('mnist-logreg');\nconsole.log(JSON.stringify({ id: card.id, accuracy: card.metrics.cleanAccuracy }));\n",
    );
    const outfile = path.join(dir, 'bundle.mjs');
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile,
      conditions: ['@advx/source'],
      mainFields: ['module', 'main'],
      logLevel: 'silent',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    const out = JSON.parse(execFileSync(process.execPath, [outfile], { encoding: 'utf8' })) as { id: string; accuracy: number };
    expect(out.id).toBe('mnist-logreg');
    expect(out.accuracy).toBe((await readModelCard('mnist-logreg')).metrics.cleanAccuracy);
  });
});
