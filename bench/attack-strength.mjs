#!/usr/bin/env node
/**
 * Attack strength, AttackBench-style (Cinà et al., AAAI 2025): how close each of advx's attacks comes to
 * the best result over all of them, per norm, on the zoo's mnist-cnn and mnist-cnn-at.
 *
 *   node bench/attack-strength.mjs [--n 40] [--models mnist-cnn,mnist-cnn-at] [--max-passes B]
 *   → bench/results/attack-strength-<date>.json and the tables it prints (copied into bench/README.md
 *     and packages/attacks/README.md)
 *
 * For each model and norm, every attack runs on the first n shipped MNIST test images (wasm, seed 0):
 * a minimization attack once (its per-sample distances give robust accuracy at every ε), a fixed-ε
 * attack once per ε of the grid. The robust-accuracy curve of an attack is sampled on the ε grid; the
 * best curve counts a sample robust at ε only when no attack fooled it there (the per-sample ensemble).
 * Optimality = 1 − Σ_ε (RA_attack(ε) − RA_best(ε)) / Σ_ε (clean − RA_best(ε)): 1 is as good as the best
 * of all attacks at every ε, 0 finds nothing. Without `--max-passes` each attack runs at its settings
 * below (steps, restarts); the table gives the passes per sample each spent. With `--max-passes B`,
 * every run also gets `RunOptions.maxPasses: B` (AttackBench's equal budget: B forward + backward
 * passes per sample, per ε for a fixed-ε attack, once for a minimization attack), so attacks whose
 * settings cost more are cut at B and return the best their budget paid for.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runBundled } from '../scripts/run-bundled.mjs';

await runBundled(join(dirname(fileURLToPath(import.meta.url)), 'attack-strength-run.mjs'));
