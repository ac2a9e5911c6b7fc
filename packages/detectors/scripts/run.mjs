#!/usr/bin/env node
/**
 * Runs a script of this folder after bundling it with esbuild (scripts/run-bundled.mjs at the root):
 * tfjs resolves to its ESM build (one engine, gradients registered) and the @advx workspace
 * packages to their sources. Usage: `node packages/detectors/scripts/run.mjs train-poisoned.mjs`.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runBundled } from '../../../scripts/run-bundled.mjs';

const name = process.argv[2];
if (!name) {
  console.error('usage: node packages/detectors/scripts/run.mjs <script.mjs> [args]');
  process.exit(2);
}
await runBundled(join(dirname(fileURLToPath(import.meta.url)), name));
