import { defineAttack, option, type FactoryOptions } from '@advx/core';

import { gradientSteps } from './internal/gradient-steps.js';

/**
 * MI-FGSM: Momentum Iterative Fast Gradient Sign Method.
 *
 * Paper: Yinpeng Dong, Fangzhou Liao, Tianyu Pang, Hang Su, Jun Zhu, Xiaolin Hu, Jianguo Li (2018),
 * "Boosting Adversarial Attacks with Momentum", {@link https://arxiv.org/abs/1710.06081}.
 *
 * Threat model: white-box (gradients), fixed epsilon; untargeted or targeted. The momentum term
 * stabilises the update direction and makes the adversarials transfer better to other models.
 *
 * Distance measure: Linf (the paper's Algorithm 1) or L2 (the paper's L2 variant). From `x₀ = x`,
 * with `∇` the gradient of the cross-entropy (of the label; minus that of the target when targeted):
 * `g_{t+1} = μ·g_t + ∇/‖∇‖₁` (L1 norm per sample) and `x_{t+1} = Π(x_t + α·sign(g_{t+1}))` (Linf) or
 * `Π(x_t + α·g_{t+1}/‖g_{t+1}‖₂)` (L2), with α = ε/T and `Π` the projection onto the epsilon ball and
 * the model's bounds.
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds`; epsilons in the units of the input.
 *
 * Options: {@link miFgsm}.schema, listed by `advx list --options mi-fgsm`:
 *
 * <!-- options:mi-fgsm -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 10 | iterations T; the step size is α = ε/T |
 * | `decay` | number in [0, ∞) | 1 | momentum decay factor μ; μ = 0 gives BIM with α = ε/T |
 * <!-- /options -->
 *
 * The paper runs all T iterations: pass `earlyStop: false` for the paper's transfer setting.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { miFgsm } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1], [-1, 1], [0.5, -0.5]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [3], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.6, 0.4, 0.5]]);
 * const attack = miFgsm({ steps: 10, decay: 1.0, earlyStop: false });
 * const result = await attack.run(model, x, { labels: tf.tensor1d([0], 'int32') }, { epsilons: [0.3] });
 * console.log(result.success); // [[true]]
 * result.dispose();
 * ```
 * @public
 */
export const miFgsm = defineAttack({
  meta: {
    name: 'mi-fgsm',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: false,
    paper: 'Dong, Liao, Pang, Su, Zhu, Hu & Li (2018), "Boosting Adversarial Attacks with Momentum", https://arxiv.org/abs/1710.06081',
  },
  options: {
    steps: option.integer(10, 'iterations T; the step size is α = ε/T', { min: 1 }),
    decay: option.number(1.0, 'momentum decay factor μ; μ = 0 gives BIM with α = ε/T', { min: 0 }),
  },
  perturb: (ctx) =>
    gradientSteps(ctx, {
      steps: ctx.options.steps,
      stepSize: ctx.epsilon / ctx.options.steps,
      randomStart: false,
      restarts: 1,
      objective: (rows) => rows.objective,
      momentum: ctx.options.decay,
    }),
});

/**
 * Options of {@link miFgsm} (each optional; see its option table).
 *
 * @public
 */
export type MiFgsmOptions = FactoryOptions<typeof miFgsm>;
