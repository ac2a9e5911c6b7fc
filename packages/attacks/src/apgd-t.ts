import * as tf from '@tensorflow/tfjs-core';

import { checkInteger, defineAttack, targetedDlr, type AttackOptionsBase } from '@advx/core';

import { apgdSearch, requireClasses, validateApgdConfig, type ApgdConfig } from './internal/apgd-engine.js';

/**
 * Options of {@link apgdT}.
 *
 * @public
 */
export interface ApgdTOptions extends AttackOptionsBase {
  /** Perturbation norm: `'linf'` (default), `'l2'` or `'l1'` (the l1-APGD steps of {@link apgd}). */
  readonly norm?: 'linf' | 'l2' | 'l1';
  /** Iterations N_iter per run, an integer ≥ 1 (default 100). */
  readonly steps?: number;
  /** Runs per target class, an integer ≥ 1 (default 1); a run after the first starts from a random point. */
  readonly restarts?: number;
  /** Start the first run of every target from a random point on the epsilon sphere too (default `true`). */
  readonly randomStart?: boolean;
  /** ρ of the step-size rule (default 0.75). */
  readonly rho?: number;
  /** Momentum weight α in (0, 1] of the new gradient step (default 0.75). */
  readonly alpha?: number;
  /**
   * Target classes tried per sample, an integer ≥ 1 (default 9): the classes with the highest clean
   * logits other than the label, in decreasing order; capped at `numClasses − 1`.
   */
  readonly numTargets?: number;
}

/**
 * APGD-T: Auto-PGD on the targeted DLR loss, run for several target classes in turn.
 *
 * Paper: Francesco Croce, Matthias Hein (2020), "Reliable evaluation of adversarial robustness with
 * an ensemble of diverse parameter-free attacks", ICML 2020, {@link https://arxiv.org/abs/2003.01690}.
 *
 * Threat model: white-box (gradients), fixed epsilon; untargeted goal (success = any class but the
 * label; the target classes are internal).
 *
 * Distance measure: Linf, L2 or L1 (option `norm`; L1 runs the l1-APGD of Croce & Hein 2021, see {@link apgd}). For each of the `numTargets` classes `t` with the
 * highest clean logits other than the label `y`, one after another and only on the samples not yet
 * misclassified, APGD (see {@link apgd}) ascends the targeted DLR loss
 * `−(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2)` (π sorts the logits in decreasing order), which is
 * invariant to shifts and rescalings of the logits. Each sample returns its first adversarial iterate
 * (with `earlyStop: false`, the one of highest loss within its successful run), else the point of
 * highest loss over all runs. Needs a model with at least 4 classes.
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds` (any range); epsilons in input units.
 *
 * Options (defaults):
 * - `norm` (`'linf'`): `'linf'`, `'l2'` or `'l1'`.
 * - `numTargets` (9): target classes per sample, capped at `numClasses − 1`.
 * - `steps` (100): iterations per run.
 * - `restarts` (1): runs per target; later ones start from random points.
 * - `randomStart` (`true`): the first run of each target starts on the ε-sphere too; `false` starts it at `x`.
 * - `rho` (0.75): ρ of the step-size rule.
 * - `alpha` (0.75): momentum weight α of the new step.
 * - `earlyStop` (`true`): a sample stops at its first adversarial iterate.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { apgdT } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1, 0.5, 0], [-1, 1, 0, 0.5], [0.5, -0.5, -1, 0.2]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [3], numClasses: 4, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.6, 0.4, 0.5], [0.3, 0.8, 0.2]]);
 * const labels = tf.tensor1d([0, 1], 'int32');
 * const result = await apgdT({ numTargets: 3 }).run(model, x, { labels }, { epsilons: [0.1, 0.3], seed: 0 });
 * console.log(result.success);
 * result.dispose();
 * ```
 * @public
 */
export const apgdT = defineAttack<ApgdTOptions>({
  meta: {
    name: 'apgd-t',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2', 'l1'],
    threat: 'white-box',
    goals: ['untargeted'],
    randomized: true,
    paper:
      'Croce & Hein (2020), "Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free attacks", ICML 2020, https://arxiv.org/abs/2003.01690',
  },
  defaults: { norm: 'linf', earlyStop: true, steps: 100, restarts: 1, randomStart: true, rho: 0.75, alpha: 0.75, numTargets: 9 },
  validate: (o) => {
    validateApgdConfig('apgd-t', o);
    checkInteger('apgd-t: numTargets', o.numTargets, 1);
  },
  perturb: async (ctx) => {
    const model = ctx.whiteBox();
    const c = model.numClasses;
    requireClasses('apgd-t', 'targeted dlr', c, 4);
    const k = Math.min(ctx.options.numTargets, c - 1);
    const labels = Int32Array.from(await ctx.goal.classes.data());
    const ranked = tf.tidy(() => {
      const logits = model.logits(ctx.x);
      const isLabel = tf.cast(tf.oneHot(ctx.goal.classes, c), 'bool');
      return tf.topk(tf.where(isLabel, tf.fill(logits.shape, -Infinity), logits), k).indices;
    });
    const targets = Int32Array.from(await ranked.data());
    ranked.dispose();
    const o = ctx.options;
    const config: ApgdConfig = { steps: o.steps, restarts: o.restarts, randomStart: o.randomStart, rho: o.rho, alpha: o.alpha, earlyStop: o.earlyStop };
    return apgdSearch(ctx, config, k, (group, rows) => {
      const y = tf.tensor1d(Int32Array.from(rows, (r) => labels[r] as number), 'int32');
      const t = tf.tensor1d(Int32Array.from(rows, (r) => targets[r * k + group] as number), 'int32');
      return {
        objective: (z) => targetedDlr(z, y, t),
        isAdversarial: (z) => tf.notEqual(tf.argMax(z, 1), y) as tf.Tensor1D,
        tensors: [y, t],
      };
    });
  },
});
