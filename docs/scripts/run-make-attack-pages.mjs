#!/usr/bin/env node
/** One-command entry of the gallery generator: bundles make-attack-pages.mjs (see scripts/run-bundled.mjs), then runs it. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runBundled } from '../../scripts/run-bundled.mjs';

await runBundled(join(dirname(fileURLToPath(import.meta.url)), 'make-attack-pages.mjs'));
