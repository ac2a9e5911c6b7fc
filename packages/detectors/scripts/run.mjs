#!/usr/bin/env node
/**
 * Runs a script of this folder after bundling it with esbuild (as the zoo's run-train.mjs does):
 * tfjs resolves to its ESM build (one engine, gradients registered) and the @advx workspace
 * packages to their sources. Usage: `node packages/detectors/scripts/run.mjs train-poisoned.mjs`.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
if (!name) {
  console.error('usage: node packages/detectors/scripts/run.mjs <script.mjs> [args]');
  process.exit(2);
}
const outfile = join(here, '.bundle', name);
await build({
  entryPoints: [join(here, name)],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node18',
  mainFields: ['module', 'main'],
  conditions: ['@advx/source'],
  outfile,
  logLevel: 'warning',
  banner: {
    js:
      "import { createRequire as __advxCreateRequire } from 'node:module'; import { dirname as __advxDirname } from 'node:path'; " +
      "import { fileURLToPath as __advxFileURLToPath } from 'node:url'; const require = __advxCreateRequire(import.meta.url); " +
      'const __filename = __advxFileURLToPath(import.meta.url); const __dirname = __advxDirname(__filename);',
  },
});
await import(pathToFileURL(outfile).href);
