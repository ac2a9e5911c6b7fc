#!/usr/bin/env node
// Bundles bench/profile-input-gradient.mjs (tfjs's ESM build, gradients registered) and runs it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runBundled } from '../scripts/run-bundled.mjs';

await runBundled(join(dirname(fileURLToPath(import.meta.url)), 'profile-input-gradient.mjs'));
