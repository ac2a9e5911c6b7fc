import type { AttackFactory } from '@advx/core';

import { defineEstimatorAttack, type EstimatedGradientOptions } from './internal/estimated-steps.js';

/**
 * Options of {@link finiteDifferences}: those of every estimated-gradient attack
 * ({@link EstimatedGradientOptions}); `samples` is the number of coordinates per estimate.
 *
 * @public
 */
export type FiniteDifferencesOptions = EstimatedGradientOptions;

/**
 * Finite-difference attack: PGD on a gradient estimated by symmetric differences on random batches of
 * coordinates, as in ZOO.
 *
 * Paper: Pin-Yu Chen, Huan Zhang, Yash Sharma, Jinfeng Yi, Cho-Jui Hsieh (2017), "ZOO: Zeroth Order
 * Optimization based Black-box Attacks to Deep Neural Networks without Training Substitute Models",
 * AISec, {@link https://arxiv.org/abs/1708.03999}.
 *
 * Threat model: score-based black box (probabilities only; never logits or gradients), fixed epsilon;
 * untargeted or targeted. Works on a `QueryModel` with `output: 'scores'` and on a white-box
 * `Model`, which it only queries (as softmax scores).
 *
 * Distance measure: Linf (sign steps) or L2 (normalized steps). Each step queries the current point
 * and, for `samples` coordinates `i` drawn without replacement (ZOO's coordinate batch),
 * `x ± h·e_i` (clipped to the bounds), estimates `ĝ_i = (L(x + h·e_i) − L(x − h·e_i)) / 2h` on them
 * (0 elsewhere) and moves `x ← Π(x + α·sign(ĝ))` (Linf) or `Π(x + α·ĝ/‖ĝ‖₂)` (L2) — ZOO itself runs
 * coordinate-wise Adam on the C&W loss; here the estimate feeds the PGD step. `L` is the margin loss
 * from the log-probabilities (ZOO's), or the cross-entropy (option `loss`). With `samples` equal to
 * the input size, the estimate is the full central-difference gradient.
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds`, any shape.
 *
 * Queries: each step costs `1 + 2·min(samples, d)` per sample; at most `maxQueries` per sample and
 * epsilon, plus the base's clean and final checks in `result.queries`.
 *
 * Options (defaults):
 * - `norm` (`'linf'`): `'linf'` or `'l2'`.
 * - `steps` (1,000) and `maxQueries` (10,000): whichever ends first.
 * - `relStepSize` (0.1: α = ε/10) or `stepSize` (0 = unset).
 * - `samples` (128, ZOO's coordinate batch) and `delta` (h = 0.0001, ZOO's).
 * - `loss` (`'margin'`), `earlyStop` (`true`).
 *
 * @example
 * ```ts
 * import { toQueryModel } from '@advx/core';
 * import { finiteDifferences } from '@advx/attacks';
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 *
 * const { model } = await loadModel('mnist-cnn');
 * const { x, y } = await loadDataset('mnist', { count: 8, source: 'shipped' });
 * const oracle = toQueryModel(model, { output: 'scores' });
 * const result = await finiteDifferences({ samples: 128, delta: 0.01 }).run(oracle, x, { labels: y }, { epsilons: [0.3], seed: 0 });
 * console.log(result.success[0], result.queries);
 * result.dispose();
 * ```
 * @public
 */
export const finiteDifferences: AttackFactory<FiniteDifferencesOptions> = defineEstimatorAttack(
  'finite-differences',
  {
    name: 'finite-differences',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2'],
    threat: 'score',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper:
      'Chen, Zhang, Sharma, Yi & Hsieh (2017), "ZOO: Zeroth Order Optimization based Black-box Attacks to Deep Neural Networks without Training Substitute Models", https://arxiv.org/abs/1708.03999',
  },
  { norm: 'linf', earlyStop: true, steps: 1000, relStepSize: 0.1, stepSize: 0, maxQueries: 10_000, samples: 128, delta: 0.0001, loss: 'margin' },
);
