import { AdvxError, checkInteger, checkNumber, defineAttack, type AttackOptionsBase } from '@advx/core';

import { gradientSteps, lossObjective, sparseL1Direction } from './internal/gradient-steps.js';

/**
 * Options of {@link pgd}.
 *
 * @public
 */
export interface PgdOptions extends AttackOptionsBase {
  /** Perturbation norm: `'linf'` (default), `'l2'` or `'l1'`. */
  readonly norm?: 'linf' | 'l2' | 'l1';
  /** Gradient steps per restart, an integer ≥ 1 (default 40). */
  readonly steps?: number;
  /** Step size relative to epsilon: α = relStepSize·ε (default 0.01/0.3, Madry et al.'s α = 0.01 at ε = 0.3). */
  readonly relStepSize?: number;
  /** Absolute step size α in the norm's units; overrides `relStepSize` when > 0 (default 0: unset). */
  readonly stepSize?: number;
  /** Start from a uniformly random point of the epsilon ball (default `true`). */
  readonly randomStart?: boolean;
  /**
   * Independent random restarts, an integer ≥ 1 (default 1; > 1 needs `randomStart`). Per sample the
   * first successful restart is kept, else the one with the highest loss.
   */
  readonly restarts?: number;
  /**
   * Loss to ascend (default `'ce'`): `'ce'` = cross-entropy of the label (untargeted) or minus the
   * cross-entropy of the target (targeted); `'margin'` = Carlini & Wagner's logit margin,
   * `max_{i≠y} z_i − z_y` (untargeted) or `z_t − max_{i≠t} z_i` (targeted).
   */
  readonly loss?: 'ce' | 'margin';
  /**
   * L1 only: the fraction of coordinates a step leaves unchanged, in [0, 1) (default 0.99: each step
   * moves the top 1 % of coordinates by gradient magnitude).
   */
  readonly l1Sparsity?: number;
}

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
 * Options (defaults):
 * - `norm` (`'linf'`): `'linf'`, `'l2'` or `'l1'`.
 * - `steps` (40): gradient steps per restart.
 * - `relStepSize` (0.01/0.3): α = relStepSize·ε.
 * - `stepSize` (0 = unset): absolute α; overrides `relStepSize` when > 0.
 * - `randomStart` (`true`): uniform random start in the epsilon ball.
 * - `restarts` (1): random restarts; per sample, the first successful one, else the one with the highest loss.
 * - `loss` (`'ce'`): `'ce'` or `'margin'` (C&W logit margin).
 * - `l1Sparsity` (0.99): L1 only; fraction of coordinates each step leaves unchanged.
 * - `earlyStop` (`true`): a sample stops at its first adversarial iterate.
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
export const pgd = defineAttack<PgdOptions>({
  meta: {
    name: 'pgd',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2', 'l1'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: true,
    paper:
      'Madry, Makelov, Schmidt, Tsipras & Vladu (2017), "Towards Deep Learning Models Resistant to Adversarial Attacks", https://arxiv.org/abs/1706.06083',
  },
  defaults: {
    norm: 'linf',
    earlyStop: true,
    steps: 40,
    relStepSize: 0.01 / 0.3,
    stepSize: 0,
    randomStart: true,
    restarts: 1,
    loss: 'ce',
    l1Sparsity: 0.99,
  },
  validate: (o) => {
    checkInteger('pgd: steps', o.steps, 1);
    checkNumber('pgd: relStepSize', o.relStepSize, 0, Infinity, true);
    checkNumber('pgd: stepSize', o.stepSize, 0);
    if (typeof o.randomStart !== 'boolean') {
      throw new AdvxError('INVALID_OPTION', `pgd: randomStart must be true or false, got ${String(o.randomStart)}.`);
    }
    checkInteger('pgd: restarts', o.restarts, 1);
    if (o.restarts > 1 && !o.randomStart) {
      throw new AdvxError('INVALID_OPTION', `pgd: restarts = ${o.restarts} needs randomStart: true (restarts from the clean input would all be identical).`);
    }
    if (o.loss !== 'ce' && o.loss !== 'margin') {
      throw new AdvxError('INVALID_OPTION', `pgd: loss must be 'ce' or 'margin', got ${JSON.stringify(o.loss)}.`);
    }
    checkNumber('pgd: l1Sparsity', o.l1Sparsity, 0, 1);
    if (o.l1Sparsity === 1) {
      throw new AdvxError('INVALID_OPTION', 'pgd: l1Sparsity must be in [0, 1), got 1 (a step would move no coordinate).');
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
