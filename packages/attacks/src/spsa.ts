import type { AttackFactory } from '@advx/core';

import { defineEstimatorAttack, type EstimatedGradientOptions } from './internal/estimated-steps.js';

/**
 * Options of {@link spsa}: those of every estimated-gradient attack ({@link EstimatedGradientOptions}).
 *
 * @public
 */
export type SpsaOptions = EstimatedGradientOptions;

/**
 * SPSA attack: PGD on a gradient estimated by simultaneous perturbation stochastic approximation.
 *
 * Paper: Jonathan Uesato, Brendan O'Donoghue, Aäron van den Oord, Pushmeet Kohli (2018), "Adversarial
 * Risk and the Dangers of Evaluating Against Weak Attacks", ICML, {@link https://arxiv.org/abs/1802.05666}.
 *
 * Threat model: score-based black box (probabilities only; never logits or gradients), fixed epsilon;
 * untargeted or targeted. Works on a `QueryModel` with `output: 'scores'` and on a white-box
 * `Model`, which it only queries (as softmax scores).
 *
 * Distance measure: Linf (sign steps) or L2 (normalized steps). Each step queries the current point
 * and `samples` pairs `x ± δ·v_k` with Rademacher directions `v_k ∈ {−1, 1}^d` (clipped to the
 * bounds), estimates `ĝ = Σ_k (L(x + δv_k) − L(x − δv_k))·v_k / (2δ·samples)` and moves
 * `x ← Π(x + α·sign(ĝ))` (Linf) or `Π(x + α·ĝ/‖ĝ‖₂)` (L2) — the paper uses Adam on ĝ; the projected
 * sign step is the PGD engine's. `L` is the margin loss from the log-probabilities (the paper's), or
 * the cross-entropy (option `loss`).
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds`, any shape.
 *
 * Queries: each step costs `1 + 2·samples` per sample; at most `maxQueries` per sample and epsilon,
 * plus the base's clean and final checks in `result.queries`.
 *
 * Options (defaults):
 * - `norm` (`'linf'`): `'linf'` or `'l2'`.
 * - `steps` (100) and `maxQueries` (10,000): whichever ends first.
 * - `relStepSize` (0.1: α = ε/10) or `stepSize` (0 = unset).
 * - `samples` (64) and `delta` (δ = 0.01, the paper's).
 * - `loss` (`'margin'`), `earlyStop` (`true`).
 *
 * @example
 * ```ts
 * import { toQueryModel } from '@advx/core';
 * import { spsa } from '@advx/attacks';
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 *
 * const { model } = await loadModel('mnist-cnn');
 * const { x, y } = await loadDataset('mnist', { count: 8, source: 'shipped' });
 * const oracle = toQueryModel(model, { output: 'scores' });
 * const result = await spsa({ steps: 40 }).run(oracle, x, { labels: y }, { epsilons: [0.3], seed: 0 });
 * console.log(result.success[0], result.queries);
 * result.dispose();
 * ```
 * @public
 */
export const spsa: AttackFactory<SpsaOptions> = defineEstimatorAttack(
  'spsa',
  {
    name: 'spsa',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2'],
    threat: 'score',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper: "Uesato, O'Donoghue, van den Oord & Kohli (2018), \"Adversarial Risk and the Dangers of Evaluating Against Weak Attacks\", https://arxiv.org/abs/1802.05666",
  },
  { norm: 'linf', earlyStop: true, steps: 100, relStepSize: 0.1, stepSize: 0, maxQueries: 10_000, samples: 64, delta: 0.01, loss: 'margin' },
);
