import { defineAttack, type FactoryOptions } from '@advx/core';

import { gradientSteps } from './internal/gradient-steps.js';

/**
 * FGSM: Fast Gradient Sign Method (Linf), and its L2/L1 generalisation FGM (Fast Gradient Method).
 *
 * Paper: Ian J. Goodfellow, Jonathon Shlens, Christian Szegedy (2014), "Explaining and Harnessing
 * Adversarial Examples", {@link https://arxiv.org/abs/1412.6572}.
 *
 * Threat model: white-box (gradients), fixed epsilon; untargeted or targeted.
 *
 * Distance measure: Linf (`x + ε·sign(∇x J)`), L2 (`x + ε·g/‖g‖₂`) or L1 (`x + ε·g/‖g‖₁`), with `J`
 * the cross-entropy of the label (untargeted) or minus the cross-entropy of the target (targeted),
 * then clipped to the model's bounds. One step of the PGD engine with step size ε and no random start.
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds`; epsilons in the units of the input.
 *
 * Options: {@link fgsm}.schema, listed by `advx list --options fgsm`:
 *
 * <!-- options:fgsm -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' \| 'l1' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { fgsm } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1], [-1, 1], [0.5, -0.5]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [3], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.6, 0.4, 0.5]]);
 * const result = await fgsm().run(model, x, { labels: tf.tensor1d([0], 'int32') }, { epsilons: [0.1, 0.3] });
 * console.log(result.success); // [[false], [true]]
 * result.dispose();
 * ```
 * @public
 */
export const fgsm = defineAttack({
  meta: {
    name: 'fgsm',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2', 'l1'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: false,
    paper: 'Goodfellow, Shlens & Szegedy (2014), "Explaining and Harnessing Adversarial Examples", https://arxiv.org/abs/1412.6572',
  },
  options: {},
  perturb: (ctx) =>
    gradientSteps(ctx, {
      steps: 1,
      stepSize: ctx.epsilon,
      randomStart: false,
      restarts: 1,
      objective: (rows) => rows.objective,
    }),
});

/**
 * Options of {@link fgsm} (each optional; see its option table).
 *
 * @public
 */
export type FgsmOptions = FactoryOptions<typeof fgsm>;
