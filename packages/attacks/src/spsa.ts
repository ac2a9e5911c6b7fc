import type { FactoryOptions } from '@advx/core';

import { defineEstimatorAttack, estimatorOptions } from './internal/estimated-steps.js';

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
 * Options: {@link spsa}.schema, listed by `advx list --options spsa`:
 *
 * <!-- options:spsa -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 100 | gradient steps at most |
 * | `relStepSize` | number in (0, ∞) | 0.1 | step size relative to epsilon, α = relStepSize·ε |
 * | `stepSize` | number in [0, ∞) | 0 | absolute step size α; overrides relStepSize when > 0 (0: unset) |
 * | `maxQueries` | integer in [1, ∞) | 10000 | queries per sample and epsilon; each step costs 1 + 2·samples |
 * | `samples` | integer in [1, ∞) | 64 | antithetic pairs of probes x ± δ·u per gradient estimate |
 * | `delta` | number in (0, ∞) | 0.01 | probe radius δ in input units (the paper's) |
 * | `loss` | 'margin' \| 'ce' | 'margin' | loss ascended: Carlini & Wagner's margin, from log-probabilities, or cross-entropy |
 * <!-- /options -->
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
export const spsa = defineEstimatorAttack(
  'spsa',
  {
    name: 'spsa',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2'],
    threat: 'score',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper:
      'Uesato, O\'Donoghue, van den Oord & Kohli (2018), "Adversarial Risk and the Dangers of Evaluating Against Weak Attacks", https://arxiv.org/abs/1802.05666',
  },
  estimatorOptions({
    steps: 100,
    samples: 64,
    samplesDoc: 'antithetic pairs of probes x ± δ·u per gradient estimate',
    delta: 0.01,
    deltaDoc: "probe radius δ in input units (the paper's)",
  }),
);

/**
 * Options of {@link spsa} (each optional; see its option table); those of every
 * estimated-gradient attack ({@link EstimatedGradientOptions}).
 *
 * @public
 */
export type SpsaOptions = FactoryOptions<typeof spsa>;
