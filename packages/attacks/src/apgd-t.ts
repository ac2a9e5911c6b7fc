import * as tf from '@tensorflow/tfjs-core';

import { defineAttack, option, targetedDlr, type FactoryOptions } from '@advx/core';

import { APGD_OPTIONS, apgdSearch, requireClasses, type ApgdConfig } from './internal/apgd-engine.js';

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
 * Options: {@link apgdT}.schema, listed by `advx list --options apgd-t`:
 *
 * <!-- options:apgd-t -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' \| 'l1' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `numTargets` | integer in [1, ∞) | 9 | target classes tried per sample: the classes with the highest clean logits other than the label, in decreasing order; capped at numClasses − 1 |
 * | `steps` | integer in [1, ∞) | 100 | iterations N_iter per run |
 * | `restarts` | integer in [1, ∞) | 1 | runs per target class; a run after the first starts from a random point |
 * | `randomStart` | boolean | true | start the first run of every target from a random point on the epsilon sphere too; false starts it at x |
 * | `rho` | number in [0, 1] | 0.75 | ρ of the step-size rule: η is halved when fewer than ρ of the steps since the last checkpoint increased the loss (not used by 'l1') |
 * | `alpha` | number in (0, 1] | 0.75 | momentum weight α of the new gradient step (1: no momentum; not used by 'l1', which has no momentum) |
 * <!-- /options -->
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
export const apgdT = defineAttack({
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
  options: {
    numTargets: option.integer(
      9,
      'target classes tried per sample: the classes with the highest clean logits other than the label, in decreasing order; capped at numClasses − 1',
      { min: 1 },
    ),
    ...APGD_OPTIONS,
    restarts: { ...APGD_OPTIONS.restarts, doc: 'runs per target class; a run after the first starts from a random point' },
    randomStart: {
      ...APGD_OPTIONS.randomStart,
      doc: 'start the first run of every target from a random point on the epsilon sphere too; false starts it at x',
    },
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
      const y = tf.tensor1d(
        Int32Array.from(rows, (r) => labels[r] as number),
        'int32',
      );
      const t = tf.tensor1d(
        Int32Array.from(rows, (r) => targets[r * k + group] as number),
        'int32',
      );
      return {
        objective: (z) => targetedDlr(z, y, t),
        isAdversarial: (z) => tf.notEqual(tf.argMax(z, 1), y) as tf.Tensor1D,
        tensors: [y, t],
      };
    });
  },
});

/**
 * Options of {@link apgdT} (each optional; see its option table).
 *
 * @public
 */
export type ApgdTOptions = FactoryOptions<typeof apgdT>;
