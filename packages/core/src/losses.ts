import * as tf from '@tensorflow/tfjs-core';

/**
 * A per-sample loss on logits: `(logits [n, C], classes int32 [n]) → [n]`.
 *
 * @public
 */
export type LogitLoss = (logits: tf.Tensor2D, classes: tf.Tensor1D) => tf.Tensor1D;

function oneHot(classes: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.oneHot(tf.cast(classes, 'int32'), depth) as tf.Tensor2D;
}

/** Largest logit among the classes other than `classes` (per sample). */
function maxOther(logits: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
  const inf = tf.mul(mask, tf.scalar(1e9));
  return tf.max(tf.sub(logits, inf), 1) as tf.Tensor1D;
}

/**
 * `−log softmax(z)_y` with the gradient `softmax(z) − onehot(y)` written so that its `y` entry is
 * `−Σ_{j≠y} softmax(z)_j` instead of `softmax(z)_y − 1`: on a confidently classified sample
 * (`softmax(z)_y` within a few float32 ulps of 1) the difference `softmax(z)_y − 1` is pure rounding
 * (−2⁻²³ on the cpu backend, 0 on wasm for the same logits), and that noise decides the sign of the
 * input gradient. The sum of the small probabilities keeps full relative precision.
 */
const stableCrossEntropy = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [logits, mask, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const logp = tf.logSoftmax(logits);
  save([logp, mask]);
  return {
    value: tf.neg(tf.sum(tf.mul(logp, mask), 1)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedLogp, savedMask] = saved as [tf.Tensor, tf.Tensor];
      const others = tf.mul(tf.exp(savedLogp), tf.sub(1, savedMask));
      const dz = tf.sub(others, tf.mul(savedMask, tf.sum(others, 1, true)));
      return [tf.mul(tf.expandDims(dy, 1), dz), tf.zerosLike(savedMask)];
    },
  };
});

/**
 * Softmax cross-entropy `−log softmax(z)_y` per sample, computed stably from logits. Its gradient
 * stays accurate when `softmax(z)_y` rounds to 1 in float32 (the logit gradient of class `y` is
 * computed as `−Σ_{j≠y} softmax(z)_j`), so attacks on confidently classified samples follow the
 * same direction on every backend.
 *
 * @example
 * ```ts
 * const loss = crossEntropy(model.logits(x), labels); // [n]
 * ```
 * @public
 */
export const crossEntropy: LogitLoss = (logits, classes) => tf.tidy(() => stableCrossEntropy(logits, oneHot(classes, logits.shape[1])) as tf.Tensor1D);

/**
 * Logit margin `z_y − max_{i≠y} z_i` per sample (Carlini & Wagner 2017's f₆ before clamping at −κ):
 * positive while class `y` wins, negative once another class wins.
 *
 * @example
 * ```ts
 * const m = logitMargin(model.logits(x), labels); // > 0 ⇔ classified as labels
 * ```
 * @public
 */
export const logitMargin: LogitLoss = (logits, classes) =>
  tf.tidy(() => {
    const mask = oneHot(classes, logits.shape[1]);
    const zy = tf.sum(tf.mul(logits, mask), 1);
    return tf.sub(zy, maxOther(logits, mask)) as tf.Tensor1D;
  });

/**
 * Carlini–Wagner loss `max(z_y − max_{i≠y} z_i, −κ)` per sample: the margin clamped at `−kappa`
 * (minimise it to leave class `y`; for a target `t`, minimise `max(max_{i≠t} z_i − z_t, −κ)` =
 * `carliniWagnerLoss(kappa)` applied to `−` logits margin of the target — see {@link logitMargin}).
 *
 * @param kappa - confidence κ ≥ 0 (default 0).
 * @public
 */
export function carliniWagnerLoss(kappa = 0): LogitLoss {
  return (logits, classes) => tf.tidy(() => tf.maximum(logitMargin(logits, classes), -kappa) as tf.Tensor1D);
}

/**
 * The `k` largest logits per row, descending, as `k` tensors `[n]`. Built from `max` and masking
 * rather than `tf.topk` (no gradient in tfjs 4.22) or `tf.gather` (its gradient needs
 * `UnsortedSegmentSum`, which the wasm backend lacks).
 */
function largestLogits(logits: tf.Tensor2D, k: number): tf.Tensor1D[] {
  const c = logits.shape[1];
  const out: tf.Tensor1D[] = [];
  let rest: tf.Tensor2D = logits;
  for (let i = 0; i < k; i++) {
    out.push(tf.max(rest, 1) as tf.Tensor1D);
    if (i + 1 < k) rest = tf.sub(rest, tf.mul(tf.oneHot(tf.argMax(rest, 1), c), 1e9));
  }
  return out;
}

/**
 * Difference-of-logits-ratio loss (Croce & Hein 2020):
 * `−(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 1e-12)`, with π the logits sorted descending.
 * Invariant to shifting and scaling the logits. Needs at least 3 classes.
 *
 * @example
 * ```ts
 * const loss = dlr(model.logits(x), labels); // maximise for an untargeted attack
 * ```
 * @public
 */
export const dlr: LogitLoss = (logits, classes) =>
  tf.tidy(() => {
    const [p1, , p3] = largestLogits(logits, 3) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const denom = tf.add(tf.sub(p1, p3), 1e-12);
    return tf.div(tf.neg(logitMargin(logits, classes)), denom) as tf.Tensor1D;
  });

/**
 * Targeted DLR loss (Croce & Hein 2020): `−(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2 + 1e-12)`.
 * Maximise it to move from label `y` to target `t`. Needs at least 4 classes.
 *
 * @example
 * ```ts
 * const loss = targetedDlr(model.logits(x), labels, targets);
 * ```
 * @public
 */
export function targetedDlr(logits: tf.Tensor2D, labels: tf.Tensor1D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const c = logits.shape[1];
    const zy = tf.sum(tf.mul(logits, oneHot(labels, c)), 1);
    const zt = tf.sum(tf.mul(logits, oneHot(targets, c)), 1);
    const [p1, , p3, p4] = largestLogits(logits, 4) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const denom = tf.add(tf.sub(p1, tf.div(tf.add(p3, p4), 2)), 1e-12);
    return tf.div(tf.neg(tf.sub(zy, zt)), denom) as tf.Tensor1D;
  });
}
