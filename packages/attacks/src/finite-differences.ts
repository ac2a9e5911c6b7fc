import type { FactoryOptions } from '@advx/core';

import { defineEstimatorAttack, estimatorOptions } from './internal/estimated-steps.js';

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
 * Options: {@link finiteDifferences}.schema, listed by `advx list --options finite-differences`:
 *
 * <!-- options:finite-differences -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 1000 | gradient steps at most |
 * | `relStepSize` | number in (0, ∞) | 0.1 | step size relative to epsilon, α = relStepSize·ε |
 * | `stepSize` | number in [0, ∞) | 0 | absolute step size α; overrides relStepSize when > 0 (0: unset) |
 * | `maxQueries` | integer in [1, ∞) | 10000 | queries per sample and epsilon; each step costs 1 + 2·samples |
 * | `samples` | integer in [1, ∞) | 128 | coordinates per gradient estimate, drawn without replacement (ZOO's coordinate batch) |
 * | `delta` | number in (0, ∞) | 1e-4 | finite-difference step h in input units (ZOO's) |
 * | `loss` | 'margin' \| 'ce' | 'margin' | loss ascended: Carlini & Wagner's margin, from log-probabilities, or cross-entropy |
 * <!-- /options -->
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
export const finiteDifferences = defineEstimatorAttack(
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
  estimatorOptions({
    steps: 1000,
    samples: 128,
    samplesDoc: "coordinates per gradient estimate, drawn without replacement (ZOO's coordinate batch)",
    delta: 0.0001,
    deltaDoc: "finite-difference step h in input units (ZOO's)",
  }),
);

/**
 * Options of {@link finiteDifferences} (each optional; see its option table); those of every
 * estimated-gradient attack ({@link EstimatedGradientOptions}).
 *
 * @public
 */
export type FiniteDifferencesOptions = FactoryOptions<typeof finiteDifferences>;
