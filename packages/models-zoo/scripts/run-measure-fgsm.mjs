#!/usr/bin/env node
/**
 * One-command entry of the FGSM re-measurement: `npm run measure-fgsm -w @advx/models-zoo -- [<model-id> ...]`.
 * `measure-fgsm.mjs` is bundled with esbuild first (tfjs's ESM build, gradients registered; see
 * scripts/run-bundled.mjs at the repository root), then run.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runBundled } from '../../../scripts/run-bundled.mjs';

await runBundled(join(dirname(fileURLToPath(import.meta.url)), 'measure-fgsm.mjs'));
