import * as tf from '@tensorflow/tfjs-core';

import { crossEntropy, defineAttack, isAdversarialLogits, option, whereRows, type FactoryOptions, type Objective } from '@advx/core';

/** Added to the step length of every step (reference code and Foolbox), so that a step crosses the boundary. */
const STEP_SLACK = 1e-4;
/** Guards the division by the gradient norm. */
const NORM_GUARD = 1e-8;

/**
 * DeepFool: the minimal perturbation that crosses the linearised decision boundary, iterated.
 *
 * Paper: Seyed-Mohsen Moosavi-Dezfooli, Alhussein Fawzi, Pascal Frossard, "DeepFool: a simple and
 * accurate method to fool deep neural networks", CVPR 2016, {@link https://arxiv.org/abs/1511.04599}.
 *
 * At each step, for every candidate class `k ≠ y` the difference `f_k = z_k − z_y` (or its
 * cross-entropy form) and its gradient `w_k = ∇ₓf_k` are computed; the sample moves to the closest
 * linearised boundary, `l = argmin_k |f_k|/‖w_k‖_q`, by the step
 * `r = (|f_l|/‖w_l‖₂ + 1e-4)·w_l/‖w_l‖₂` for `l2` (q = 2) and `r = (|f_l|/‖w_l‖₁ + 1e-4)·sign(w_l)` for
 * `linf` (the paper's ℓp generalisation with q = 1). The iterate is `clip(x + (1 + η)·Σ r)`; a sample
 * stops as soon as it is misclassified (it is then left unchanged), the run after `steps` steps.
 * On a linear model one step lands on the nearest decision boundary, at distance
 * `(1 + η)·(|z_y − z_k|/‖w_y − w_k‖_q + 1e-4)`.
 *
 * - Threat model: white-box (gradients of the logits).
 * - Kind: minimization — it runs once per batch and the base clips the result to every epsilon.
 * - Norms: `l2` (default) and `linf`. Goal: untargeted only.
 * - Input: any shape `[n, ...model.inputShape]` inside `model.bounds`; the model must return logits.
 * - Deterministic; every computation is per sample, so results do not depend on the batch size.
 *
 * Options: {@link deepfool}.schema, listed by `advx list --options deepfool`:
 *
 * <!-- options:deepfool -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'l2' \| 'linf' | 'l2' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 50 | maximum number of linearisation steps |
 * | `overshoot` | number in [0, ∞) | 0.02 | overshoot η: the accumulated perturbation is applied as (1 + η)·Σ rᵢ |
 * | `candidates` | integer in [2, ∞) | 10 | only the classes with the largest clean logits (the label included) are considered |
 * | `loss` | 'logits' \| 'crossentropy' | 'logits' | class difference linearised at each step: z_k − z_y, or CE(z, y) − CE(z, k) (Foolbox's; equal in exact arithmetic) |
 * <!-- /options -->
 *
 * `earlyStop` has no effect: DeepFool always stops a sample once it is misclassified.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { deepfool } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1], [-1, 1]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.7, 0.3]]);
 * const labels = tf.tensor1d([0], 'int32');
 * const result = await deepfool().run(model, x, { labels }, { epsilons: [0.1, 0.5] });
 * console.log(result.distances[0]); // 1.02·(0.8/(2√2) + 1e-4) ≈ 0.2886
 * result.dispose();
 * ```
 * @public
 */
export const deepfool = defineAttack({
  meta: {
    name: 'deepfool',
    kind: 'minimization',
    norms: ['l2', 'linf'],
    threat: 'white-box',
    goals: ['untargeted'],
    randomized: false,
    paper:
      'Seyed-Mohsen Moosavi-Dezfooli, Alhussein Fawzi, Pascal Frossard (2016). DeepFool: a simple and accurate method to fool deep neural networks. https://arxiv.org/abs/1511.04599',
  },
  options: {
    steps: option.integer(50, 'maximum number of linearisation steps', { min: 1 }),
    overshoot: option.number(0.02, 'overshoot η: the accumulated perturbation is applied as (1 + η)·Σ rᵢ', { min: 0 }),
    candidates: option.integer(10, 'only the classes with the largest clean logits (the label included) are considered', { min: 2 }),
    loss: option.oneOf(
      ['logits', 'crossentropy'],
      'logits',
      "class difference linearised at each step: z_k − z_y, or CE(z, y) − CE(z, k) (Foolbox's; equal in exact arithmetic)",
    ),
  },
  perturb: async (ctx) => {
    const { steps, overshoot, candidates, loss } = ctx.options;
    const model = ctx.whiteBox();
    const n = ctx.n;
    const x = ctx.x;
    const labels = tf.cast(ctx.goal.classes, 'int32') as tf.Tensor1D;
    const numClasses = model.numClasses;
    const k = Math.min(candidates, numClasses);
    const linf = ctx.norm.name === 'linf';

    // Candidate classes: the k − 1 classes other than the label with the largest clean logits. The label's
    // logit is replaced by a finite value below the row minimum (tfjs's CPU topk mishandles ±Infinity).
    const others = tf.tidy(() => {
      const logits = model.logits(x);
      const isLabel = tf.cast(tf.oneHot(labels, numClasses), 'bool');
      const floor = tf.sub(tf.min(logits, 1, true), 1);
      const ranked = tf.where(isLabel, tf.broadcastTo(floor, logits.shape), logits);
      const order = tf.topk(ranked, k - 1, true).indices;
      return Array.from({ length: k - 1 }, (_, j) => tf.reshape(tf.slice(order, [0, j], [n, 1]), [n]) as tf.Tensor1D);
    });
    const pick = (logits: tf.Tensor2D, classes: tf.Tensor1D): tf.Tensor1D => tf.sum(tf.mul(logits, tf.oneHot(classes, numClasses)), 1) as tf.Tensor1D;
    const objectives: Objective[] = others.map((cls) =>
      loss === 'logits'
        ? (logits) => tf.sub(pick(logits, cls), pick(logits, labels)) as tf.Tensor1D
        : (logits) => tf.sub(crossEntropy(logits, labels), crossEntropy(logits, cls)) as tf.Tensor1D,
    );
    const dual = (g: tf.Tensor2D): tf.Tensor1D => (linf ? tf.sum(tf.abs(g), 1) : tf.sqrt(tf.sum(tf.square(g), 1))) as tf.Tensor1D;

    let xs = tf.clone(x);
    let total = tf.zerosLike(x);
    for (let i = 0; i < steps; i++) {
      try {
        await ctx.checkpoint(i, steps);
      } catch (err) {
        // Aborted between steps: release the iterate (no engine scope will).
        tf.dispose([labels, total, xs, ...others]);
        throw err;
      }
      const first = ctx.gradient(xs, objectives[0] as Objective);
      const done = tf.tidy(() => tf.logicalOr(isAdversarialLogits(first.logits, ctx.goal), tf.logicalNot(ctx.active)));
      const all = tf.all(done);
      const [finished] = await all.data();
      all.dispose();
      if (finished) {
        tf.dispose([first.value, first.logits, first.grad, done]);
        break;
      }
      const current = xs;
      const accumulated = total;
      const next = tf.tidy(() => {
        const values: tf.Tensor1D[] = [first.value];
        const grads: tf.Tensor2D[] = [tf.reshape(first.grad, [n, -1])];
        for (let j = 1; j < objectives.length; j++) {
          const { value, grad } = ctx.gradient(current, objectives[j] as Objective);
          values.push(value);
          grads.push(tf.reshape(grad, [n, -1]));
        }
        const distances = values.map((value, j) => tf.div(tf.abs(value), tf.add(dual(grads[j] as tf.Tensor2D), NORM_GUARD)));
        let distance = distances[0] as tf.Tensor1D;
        let grad = grads[0] as tf.Tensor2D;
        if (distances.length > 1) {
          // Per sample, the candidate whose linearised boundary is closest.
          const closest = tf.oneHot(tf.argMin(tf.stack(distances, 1), 1), distances.length);
          distance = tf.sum(tf.mul(tf.stack(distances, 1), closest), 1) as tf.Tensor1D;
          grad = tf.sum(tf.mul(tf.stack(grads, 1), tf.expandDims(closest, 2)), 1) as tf.Tensor2D;
        }
        const length = tf.expandDims(tf.add(distance, STEP_SLACK), 1);
        const step = linf ? tf.mul(length, tf.sign(grad)) : tf.mul(tf.div(length, tf.expandDims(tf.add(dual(grad), NORM_GUARD), 1)), grad);
        const sum = tf.add(accumulated, tf.reshape(step, x.shape));
        const moved = ctx.clip(tf.add(x, tf.mul(sum, 1 + overshoot)));
        return { x: whereRows(done, current, moved), total: sum };
      });
      tf.dispose([first.value, first.logits, first.grad, done, current, accumulated]);
      xs = next.x;
      total = next.total;
    }
    tf.dispose([labels, total, ...others]);
    return xs;
  },
});

/**
 * Options of {@link deepfool} (each optional; see its option table).
 *
 * @public
 */
export type DeepFoolOptions = FactoryOptions<typeof deepfool>;
