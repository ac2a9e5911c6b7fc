import { AdvxError, defineAttack, option, type FactoryOptions } from '@advx/core';

import { gradientSteps, lossObjective, sparseL1Direction } from './internal/gradient-steps.js';

/**
 * PGD: Projected Gradient Descent.
 *
 * Paper: Aleksander Madry, Aleksandar Makelov, Ludwig Schmidt, Dimitris Tsipras, Adrian Vladu (2017),
 * "Towards Deep Learning Models Resistant to Adversarial Attacks", {@link https://arxiv.org/abs/1706.06083}.
 * L1 step: Florian Tramèr, Dan Boneh (2019), "Adversarial Training and Robustness for Multiple
 * Perturbations", {@link https://arxiv.org/abs/1904.13000}.
 *
 * Threat model: white-box (gradients), fixed epsilon; untargeted or targeted.
 *
 * Distance measure: Linf, L2 or L1 (option `norm`). From `x₀ = x` (or a uniformly random point of
 * the epsilon ball when `randomStart`), every step is `x ← Π(x + α·d)`, with `Π` the projection onto
 * the epsilon ball around `x` followed by clipping to the model's bounds, and `d` the norm's
 * steepest-ascent direction of the loss gradient `g`: `sign(g)` for Linf, `g/‖g‖₂` for L2, and for
 * L1 the sparse step of Tramèr & Boneh ("SLIDE": `sign(g)` on the top `(1 − l1Sparsity)` fraction of
 * coordinates by `|g|`, scaled to unit L1 norm; coordinates on a bound whose gradient points out of
 * the box are skipped), followed by the exact L1-ball projection. A plain `g/‖g‖₁` step moves
 * every coordinate by a tiny amount and is ineffective for L1.
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds` (any range: the bounds come from
 * the model adapter). Epsilons are in the units of the input.
 *
 * Options: {@link pgd}.schema, listed by `advx list --options pgd`:
 *
 * <!-- options:pgd -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' \| 'l1' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 40 | gradient steps per restart |
 * | `relStepSize` | number in (0, ∞) | 0.0333333 | step size relative to epsilon, α = relStepSize·ε (Madry et al.'s α = 0.01 at ε = 0.3) |
 * | `stepSize` | number in [0, ∞) | 0 | absolute step size α in the norm's units; overrides relStepSize when > 0 (0: unset) |
 * | `randomStart` | boolean | true | start from a uniformly random point of the epsilon ball |
 * | `restarts` | integer in [1, ∞) | 1 | random restarts (> 1 needs randomStart); per sample the first successful one is kept, else the one with the highest loss |
 * | `loss` | 'ce' \| 'margin' | 'ce' | loss to ascend: cross-entropy, or Carlini & Wagner's logit margin |
 * | `l1Sparsity` | number in [0, 1) | 0.99 | L1 only: the fraction of coordinates a step leaves unchanged |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { pgd } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1], [-1, 1], [0.5, -0.5]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [3], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.6, 0.4, 0.5], [0.3, 0.8, 0.2]]);
 * const labels = tf.tensor1d([0, 1], 'int32');
 * const attack = pgd({ norm: 'linf', steps: 40, restarts: 2 });
 * const result = await attack.run(model, x, { labels }, { epsilons: [0.05, 0.3], seed: 0 });
 * console.log(result.success); // [[false, false], [true, true]]: per epsilon, per sample
 * result.dispose();
 * ```
 * @public
 */
export const pgd = defineAttack({
  meta: {
    name: 'pgd',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2', 'l1'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper: 'Madry, Makelov, Schmidt, Tsipras & Vladu (2017), "Towards Deep Learning Models Resistant to Adversarial Attacks", https://arxiv.org/abs/1706.06083',
  },
  options: {
    steps: option.integer(40, 'gradient steps per restart', { min: 1 }),
    relStepSize: option.number(0.01 / 0.3, "step size relative to epsilon, α = relStepSize·ε (Madry et al.'s α = 0.01 at ε = 0.3)", { min: 0, above: true }),
    stepSize: option.number(0, "absolute step size α in the norm's units; overrides relStepSize when > 0 (0: unset)", { min: 0 }),
    randomStart: option.boolean(true, 'start from a uniformly random point of the epsilon ball'),
    restarts: option.integer(1, 'random restarts (> 1 needs randomStart); per sample the first successful one is kept, else the one with the highest loss', {
      min: 1,
    }),
    loss: option.oneOf(['ce', 'margin'], 'ce', "loss to ascend: cross-entropy, or Carlini & Wagner's logit margin"),
    l1Sparsity: option.number(0.99, 'L1 only: the fraction of coordinates a step leaves unchanged', { min: 0, max: 1, below: true }),
  },
  check: (o) => {
    if (o.restarts > 1 && !o.randomStart) {
      throw new AdvxError('INVALID_OPTION', `pgd: restarts = ${o.restarts} needs randomStart: true (restarts from the clean input would all be identical).`);
    }
  },
  perturb: (ctx) => {
    const o = ctx.options;
    return gradientSteps(ctx, {
      steps: o.steps,
      stepSize: o.stepSize > 0 ? o.stepSize : o.relStepSize * ctx.epsilon,
      randomStart: o.randomStart,
      restarts: o.restarts,
      objective: (rows) => lossObjective(rows, o.loss),
      direction: o.norm === 'l1' ? sparseL1Direction(o.l1Sparsity, ctx.bounds) : undefined,
    });
  },
});

/**
 * Options of {@link pgd} (each optional; see its option table).
 *
 * @public
 */
export type PgdOptions = FactoryOptions<typeof pgd>;
