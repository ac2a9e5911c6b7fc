/**
 * Bundles a Node script with esbuild, then runs it: the entry of the training scripts (the zoo's
 * `train.mjs`, the detectors' `train-poisoned.mjs`).
 *
 * tfjs-core's Node (CommonJS) entry registers no gradients, and its ESM build
 * (`dist/register_all_gradients.js`, extensionless imports) cannot be imported by plain Node. So the
 * script is bundled first, resolving every tfjs package to its ESM build (`mainFields: module, main`:
 * one copy of the engine, gradients included) and the @advx workspace packages to their sources, into
 * `.bundle/` next to it, then imported.
 */
import { build } from 'esbuild';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Bundles `script` (an absolute path) into `<its folder>/.bundle/` and runs the bundle. */
export async function runBundled(script) {
  const outfile = join(dirname(script), '.bundle', basename(script));
  await build({
    entryPoints: [script],
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
}
