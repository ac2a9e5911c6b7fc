import * as tf from '@tensorflow/tfjs-core';

import { defineFactory, option, type Preprocessor, type FactoryOptions } from '@advx/core';

const BIT_DEPTH_OPTIONS = {
  bits: option.integer(1, 'bits per value after squeezing (1: binarization)', { min: 1, max: 16 }),
  gradient: option.oneOf(['bpda-identity', 'exact'], 'bpda-identity', "gradient seen by attacks ('exact' is zero almost everywhere: gradient masking)"),
};

/**
 * Bit-depth reduction ("feature squeezing"): every value is rounded to `2^bits` evenly spaced levels
 * of the model's bounds, `x' = lo + round((x − lo)/(hi − lo) · (2^bits − 1)) / (2^bits − 1) · (hi − lo)`
 * (round half to even, as NumPy's `rint` in the paper's code).
 *
 * Paper: Weilin Xu, David Evans, Yanjun Qi (2018), "Feature Squeezing: Detecting Adversarial Examples
 * in Deep Neural Networks", NDSS, {@link https://arxiv.org/abs/1704.01155}.
 *
 * Threat model addressed: small Linf perturbations that do not cross a rounding threshold (on MNIST,
 * 1 bit removes every change smaller than the distance of a pixel to 0.5). Not addressed: an adaptive
 * white-box attacker. Known bypass: BPDA (Athalye, Carlini & Wagner 2018,
 * {@link https://arxiv.org/abs/1802.00420}) — the forward pass squeezes, the backward pass is the
 * identity; this preprocessor declares exactly that gradient by default, so attacks through
 * `defend()` are the honest, adaptive evaluation. The rounding's own gradient is zero: with
 * `gradient: 'exact'` every gradient attack stalls, which is gradient masking, not robustness.
 *
 * Input: any batch inside the model's bounds. Options: {@link bitDepth}.schema (each declared once,
 * with its default, range and doc); use `gradient: 'exact'` only to demonstrate gradient masking.
 *
 * <!-- options:bit-depth -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `bits` | integer in [1, 16] | 1 | bits per value after squeezing (1: binarization) |
 * | `gradient` | 'bpda-identity' \| 'exact' | 'bpda-identity' | gradient seen by attacks ('exact' is zero almost everywhere: gradient masking) |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { defend } from '@advx/core';
 * import { bitDepth } from '@advx/defenses';
 *
 * const squeeze = bitDepth({ bits: 1 });
 * squeeze.apply(tf.tensor1d([0.2, 0.5, 0.7]), [0, 1]).print(); // [0, 0, 1]
 * const defended = defend(model, squeeze); // attack `defended` like any model
 * ```
 * @public
 */
export const bitDepth = defineFactory('bitDepth', BIT_DEPTH_OPTIONS, (o): Preprocessor => {
  const { bits, gradient } = o;
  const levels = 2 ** bits - 1;
  return Object.freeze({
    name: 'bit-depth',
    gradient,
    randomized: false,
    apply: (x: tf.Tensor, bounds: readonly [number, number]) =>
      tf.tidy(() => {
        const [lo, hi] = bounds;
        const unit = tf.clipByValue(tf.div(tf.sub(x, lo), hi - lo), 0, 1);
        const q = tf.div(tf.round(tf.mul(unit, levels)), levels);
        return tf.add(tf.mul(q, hi - lo), lo);
      }),
  });
});

/**
 * Options of {@link bitDepth}.
 *
 * @public
 */
export type BitDepthOptions = FactoryOptions<typeof bitDepth>;
