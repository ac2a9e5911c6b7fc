#!/usr/bin/env node
/**
 * The AutoAttack figure of issue #19: on the zoo's adversarially trained mnist-cnn-at at Linf ε = 0.3,
 * AutoAttack standard's robust accuracy against APGD-CE alone and PGD-40, and whether FAB-T finds points
 * that APGD-T misses.
 *
 *   node bench/autoattack-figure.mjs [--n 100] [--threads 2] [--model mnist-cnn-at] [--eps 0.3]
 *   → bench/results/autoattack-figure-<date>.json (written after every attack, `partial: true` until
 *     the last one is done) and the table it prints (copied into bench/README.md)
 *
 * On the first n shipped MNIST test images (wasm, seed 0), each through `evaluate()` of `@advx/eval`
 * (gradient-masking diagnostics off, batch size 128), one call per row:
 * - PGD-40 at `advx eval`'s default settings (`pgd:steps=40:stepSize=0.01`, random start),
 * - APGD-CE alone (100 steps, 1 restart: AutoAttack standard's first stage),
 * - AutoAttack standard (`autoAttack()`: APGD-CE → APGD-T → FAB-T → Square, 100 steps, 9 targets,
 *   5,000 queries, sequential: each stage only on the samples still robust), with the robust accuracy
 *   after every stage and the samples each stage fooled,
 * - APGD-T alone and FAB-T alone with AutoAttack's settings, on every clean-correct sample, and per
 *   sample which of the two fooled it (FAB-T only, APGD-T only, both, neither).
 * Robust accuracies carry evaluate()'s 95 % Clopper–Pearson intervals; every row has its wall time
 * and the white-box passes it spent.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runBundled } from '../scripts/run-bundled.mjs';

await runBundled(join(dirname(fileURLToPath(import.meta.url)), 'autoattack-figure-run.mjs'));
