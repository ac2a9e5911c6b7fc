import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, checkInteger, type Preprocessor } from '@advx/core';

/**
 * Options of {@link bitDepth}.
 *
 * @public
 */
export interface BitDepthOptions {
  /** Bits per value after squeezing, an integer in [1, 16] (default 1: binarization). */
  readonly bits?: number;
  /**
   * Gradient seen by attacks (default `'bpda-identity'`). `'exact'` is the true gradient of the
   * rounding, which is zero almost everywhere: attacks then see a masked gradient and the defense
   * looks strong without being so. Use it only to demonstrate that failure.
   */
  readonly gradient?: 'bpda-identity' | 'exact';
}

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
 * Input: any batch inside the model's bounds. Options (defaults): `bits` (1), `gradient`
 * (`'bpda-identity'`).
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
export function bitDepth(options: BitDepthOptions = {}): Preprocessor {
  const bits = checkInteger('bitDepth: bits', options.bits ?? 1, 1, 16);
  const gradient = options.gradient ?? 'bpda-identity';
  if (gradient !== 'bpda-identity' && gradient !== 'exact') {
    throw new AdvxError('INVALID_OPTION', `bitDepth: gradient must be 'bpda-identity' or 'exact', got '${String(gradient)}'.`);
  }
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
}
