import * as tf from '@tensorflow/tfjs-core';

/** Kingma & Ba's default hyper-parameters, as in the C&W reference implementation. */
const BETA1 = 0.9;
const BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

/**
 * Parameters and moments after an {@link adamStep}.
 *
 * @public
 */
export interface AdamState {
  /** The parameters. */
  readonly w: tf.Tensor;
  /** The first moment. */
  readonly m: tf.Tensor;
  /** The second moment. */
  readonly v: tf.Tensor;
}

/**
 * One step of Adam (Kingma & Ba 2015, Algorithm 1) on a tensor, element-wise:
 * `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, `w ← w − lr·m̂/(√v̂ + ε)` with the bias-corrected
 * moments `m̂ = m/(1−β1^t)` and `v̂ = v/(1−β2^t)`. Every element (hence every sample of a batch) is
 * updated independently, so a batched run equals per-sample runs.
 *
 * @param w - the parameters.
 * @param grad - the gradient of the loss to minimise w.r.t. `w`.
 * @param m - first moment (zeros before the first step).
 * @param v - second moment (zeros before the first step).
 * @param t - the step number, starting at 1.
 * @param learningRate - the step size `lr`.
 * @returns the new `w`, `m` and `v` (new tensors; the inputs are not disposed).
 *
 * @example
 * ```ts
 * let state = { w: tf.zeros([4]), m: tf.zeros([4]), v: tf.zeros([4]) };
 * const next = adamStep(state.w, grad, state.m, state.v, 1, 0.01);
 * tf.dispose([state.w, state.m, state.v]);
 * state = next;
 * ```
 * @public
 */
export function adamStep(
  w: tf.Tensor,
  grad: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  t: number,
  learningRate: number,
  beta1 = BETA1,
  beta2 = BETA2,
  epsilon = ADAM_EPSILON,
): AdamState {
  return tf.tidy(() => {
    const m1 = tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1));
    const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2));
    const mHat = tf.div(m1, 1 - Math.pow(beta1, t));
    const vHat = tf.div(v1, 1 - Math.pow(beta2, t));
    const w1 = tf.sub(w, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon)), learningRate));
    return { w: w1, m: m1, v: v1 };
  });
}
