import { defineAttack, option, type Bounds, type FactoryOptions } from '@advx/core';

import { gradientSteps } from './internal/gradient-steps.js';

/** Number of levels of the 8-bit images Kurakin et al.'s rule is stated for. */
const LEVELS = 255;
/** Steps of the L2 variant when `steps` is 0. */
const L2_DEFAULT_STEPS = 10;

/** The resolved step count and step size of BIM for one epsilon (see {@link bim} for the rule). */
function bimSchedule(norm: 'linf' | 'l2', epsilon: number, bounds: Bounds, steps: number, stepSize: number): { steps: number; stepSize: number } {
  if (norm === 'linf') {
    const unit = (bounds[1] - bounds[0]) / LEVELS;
    const e = epsilon / unit;
    return {
      steps: steps > 0 ? steps : Math.max(1, Math.round(Math.min(e + 4, 1.25 * e))),
      stepSize: stepSize > 0 ? stepSize : unit,
    };
  }
  const t = steps > 0 ? steps : L2_DEFAULT_STEPS;
  return { steps: t, stepSize: stepSize > 0 ? stepSize : (1.25 * epsilon) / t };
}

/**
 * BIM: Basic Iterative Method (also called I-FGSM), PGD without random start.
 *
 * Paper: Alexey Kurakin, Ian Goodfellow, Samy Bengio (2016), "Adversarial examples in the physical
 * world", {@link https://arxiv.org/abs/1607.02533}.
 *
 * Threat model: white-box (gradients), fixed epsilon; untargeted or targeted (for the paper's
 * "iterative least-likely class" method pass `{ targets: leastLikelyTargets(model, x) }`).
 *
 * Distance measure: Linf (the paper's: `x ← Clip_{x,ε}(x + α·sign(∇x J))`) or L2
 * (`x ← Π(x + α·g/‖g‖₂)`), from the clean input, with `J` the cross-entropy.
 *
 * Kurakin et al.'s rule (used when `steps` / `stepSize` are 0): on 8-bit images, α = 1 intensity
 * level and `min(ε + 4, 1.25·ε)` iterations, ε in levels. Here one level is the bounds' width / 255,
 * so α = (hi − lo)/255 and steps = round(min(ε' + 4, 1.25·ε')) with ε' = 255·ε/(hi − lo) (at least
 * 1). E.g. bounds [0, 1], ε = 8/255: α = 1/255, 10 steps. Each part of the rule applies on its own:
 * a user `steps` keeps the rule's α and vice versa. The rule is Linf-only; for L2 the defaults are
 * 10 steps and α = 1.25·ε/steps (a path of 1.25·ε, the large-ε branch of the rule).
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds`; epsilons in the units of the input.
 *
 * Options: {@link bim}.schema, listed by `advx list --options bim`:
 *
 * <!-- options:bim -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [0, ∞) | 0 | iterations (0: Kurakin et al.'s rule) |
 * | `stepSize` | number in [0, ∞) | 0 | absolute step size α (0: Kurakin et al.'s rule) |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { bim } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1], [-1, 1], [0.5, -0.5]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [3], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.6, 0.4, 0.5]]);
 * const result = await bim().run(model, x, { labels: tf.tensor1d([0], 'int32') }, { epsilons: [16 / 255, 0.3] });
 * console.log(result.success); // [[false], [true]]
 * result.dispose();
 * ```
 * @public
 */
export const bim = defineAttack({
  meta: {
    name: 'bim',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: false,
    paper: 'Kurakin, Goodfellow & Bengio (2016), "Adversarial examples in the physical world", https://arxiv.org/abs/1607.02533',
  },
  options: {
    steps: option.integer(0, "iterations (0: Kurakin et al.'s rule)", { min: 0 }),
    stepSize: option.number(0, "absolute step size α (0: Kurakin et al.'s rule)", { min: 0 }),
  },
  perturb: (ctx) => {
    const o = ctx.options;
    const schedule = bimSchedule(o.norm, ctx.epsilon, ctx.bounds, o.steps, o.stepSize);
    return gradientSteps(ctx, {
      ...schedule,
      randomStart: false,
      restarts: 1,
      objective: (rows) => rows.objective,
    });
  },
});

/**
 * Options of {@link bim} (each optional; see its option table).
 *
 * @public
 */
export type BimOptions = FactoryOptions<typeof bim>;
