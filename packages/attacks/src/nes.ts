import type { FactoryOptions } from '@advx/core';

import { defineEstimatorAttack, estimatorOptions } from './internal/estimated-steps.js';

/**
 * NES attack: PGD on a gradient estimated by natural evolution strategies.
 *
 * Paper: Andrew Ilyas, Logan Engstrom, Anish Athalye, Jessy Lin (2018), "Black-box Adversarial Attacks
 * with Limited Queries and Information", ICML, {@link https://arxiv.org/abs/1804.08598}.
 *
 * Threat model: score-based black box (probabilities only; never logits or gradients), fixed epsilon;
 * untargeted or targeted. Works on a `QueryModel` with `output: 'scores'` and on a white-box
 * `Model`, which it only queries (as softmax scores).
 *
 * Distance measure: Linf (sign steps, the paper's) or L2 (normalized steps). Each step queries the
 * current point and `samples` antithetic pairs `x ± σ·u_k`, `u_k ~ N(0, I)` (clipped to the bounds),
 * estimates `ĝ = Σ_k (L(x + σu_k) − L(x − σu_k))·u_k / (2σ·samples)` and moves
 * `x ← Π(x + α·sign(ĝ))` (Linf) or `Π(x + α·ĝ/‖ĝ‖₂)` (L2). `L` is the margin loss computed from the
 * log-probabilities (or the cross-entropy, option `loss`).
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds`, any shape.
 *
 * Queries: each step costs `1 + 2·samples` per sample; at most `maxQueries` per sample and epsilon,
 * plus the base's clean and final checks in `result.queries`.
 *
 * Options: {@link nes}.schema, listed by `advx list --options nes`:
 *
 * <!-- options:nes -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 1000 | gradient steps at most |
 * | `relStepSize` | number in (0, ∞) | 0.1 | step size relative to epsilon, α = relStepSize·ε |
 * | `stepSize` | number in [0, ∞) | 0 | absolute step size α; overrides relStepSize when > 0 (0: unset) |
 * | `maxQueries` | integer in [1, ∞) | 10000 | queries per sample and epsilon; each step costs 1 + 2·samples |
 * | `samples` | integer in [1, ∞) | 50 | antithetic pairs of probes x ± σ·u per gradient estimate (the paper's 100 probes as 50 pairs) |
 * | `delta` | number in (0, ∞) | 0.001 | probe radius σ in input units (the paper's) |
 * | `loss` | 'margin' \| 'ce' | 'margin' | loss ascended: Carlini & Wagner's margin, from log-probabilities, or cross-entropy |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { toQueryModel } from '@advx/core';
 * import { nes } from '@advx/attacks';
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 *
 * const { model } = await loadModel('mnist-cnn');
 * const { x, y } = await loadDataset('mnist', { count: 8, source: 'shipped' });
 * const oracle = toQueryModel(model, { output: 'scores' });
 * const result = await nes({ maxQueries: 5000, delta: 0.01 }).run(oracle, x, { labels: y }, { epsilons: [0.3], seed: 0 });
 * console.log(result.success[0], result.queries);
 * result.dispose();
 * ```
 * @public
 */
export const nes = defineEstimatorAttack(
  'nes',
  {
    name: 'nes',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2'],
    threat: 'score',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper: 'Ilyas, Engstrom, Athalye & Lin (2018), "Black-box Adversarial Attacks with Limited Queries and Information", https://arxiv.org/abs/1804.08598',
  },
  estimatorOptions({
    steps: 1000,
    samples: 50,
    samplesDoc: "antithetic pairs of probes x ± σ·u per gradient estimate (the paper's 100 probes as 50 pairs)",
    delta: 0.001,
    deltaDoc: "probe radius σ in input units (the paper's)",
  }),
);

/**
 * Options of {@link nes} (each optional; see its option table); those of every
 * estimated-gradient attack ({@link EstimatedGradientOptions}).
 *
 * @public
 */
export type NesOptions = FactoryOptions<typeof nes>;
