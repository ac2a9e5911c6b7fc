#!/usr/bin/env node
/**
 * One-command entry of the training script: `npm run train -w @advx/models-zoo -- <model-id>`.
 *
 * tfjs-core's Node (CommonJS) entry registers no gradients, and its ESM build
 * (`dist/register_all_gradients.js`, extensionless imports) cannot be imported by plain Node.
 * So `train.mjs` is bundled with esbuild first, resolving every tfjs package to its ESM build
 * (`mainFields: module, main`: one copy of the engine, gradients included), and the @advx
 * workspace packages to their sources, then run.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outfile = join(here, '.bundle', 'train.mjs');
await build({
  entryPoints: [join(here, 'train.mjs')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node18',
  mainFields: ['module', 'main'],
  // @advx/* workspace packages from source (as under vitest), not from a possibly stale dist/.
  conditions: ['@advx/source'],
  outfile,
  logLevel: 'warning',
  // CommonJS dependencies inside an ESM bundle (seedrandom, long) need a `require`; the wasm
  // backend's loader also uses `__filename` / `__dirname`.
  banner: {
    js:
      "import { createRequire as __advxCreateRequire } from 'node:module'; import { dirname as __advxDirname } from 'node:path'; " +
      "import { fileURLToPath as __advxFileURLToPath } from 'node:url'; const require = __advxCreateRequire(import.meta.url); " +
      'const __filename = __advxFileURLToPath(import.meta.url); const __dirname = __advxDirname(__filename);',
  },
});
await import(pathToFileURL(outfile).href);
