import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, defineFactory, option, type Preprocessor, type FactoryOptions } from '@advx/core';

import { assertImageBatch, windows } from './internal/image.js';

const MEDIAN_SMOOTHING_OPTIONS = {
  size: option.integer(2, "window side in pixels (2: the paper's MNIST setting)", { min: 2, max: 5 }),
};

/** Compare-exchange sort (odd–even transposition network) of equally shaped tensors. */
function sortNetwork(values: tf.Tensor[]): tf.Tensor[] {
  const v = [...values];
  for (let round = 0; round < v.length; round++) {
    for (let i = round % 2; i + 1 < v.length; i += 2) {
      const a = v[i] as tf.Tensor;
      const b = v[i + 1] as tf.Tensor;
      v[i] = tf.minimum(a, b);
      v[i + 1] = tf.maximum(a, b);
    }
  }
  return v;
}

/**
 * Median smoothing ("feature squeezing" by local spatial smoothing): each value is replaced by the
 * median of the `size × size` window of its channel, as `scipy.ndimage.median_filter(x, size=(1, size,
 * size, 1), mode='reflect')` in the paper's code — edges are mirrored with the edge pixel repeated, the
 * window of an even size spans the pixel and the `size/2` before it, and the median of an even count
 * is the upper middle value (rank `⌊size²/2⌋`).
 *
 * Paper: Weilin Xu, David Evans, Yanjun Qi (2018), "Feature Squeezing: Detecting Adversarial Examples
 * in Deep Neural Networks", NDSS, {@link https://arxiv.org/abs/1704.01155}.
 *
 * Gradient: exact. The median is a piecewise selection, built here from a sorting network of
 * `minimum`/`maximum`, so the gradient of each output flows to the input that is the median.
 *
 * Threat model addressed: sparse, salt-and-pepper-like perturbations (L0 attacks such as JSMA or
 * C&W-L0 change few pixels, which the median removes). Not addressed: dense Linf/L2 perturbations
 * and adaptive attackers. Known bypass: attack through the filter — its gradient is exact, so PGD on
 * `defend(model, medianSmoothing())` adapts to it (Athalye, Carlini & Wagner 2018,
 * {@link https://arxiv.org/abs/1802.00420}; He et al. 2017, {@link https://arxiv.org/abs/1706.04701}).
 *
 * Input: image batches `[n, h, w, c]` (NHWC) with `h, w ≥ size`. Options: {@link medianSmoothing}.schema (each
 * declared once, with its default, range and doc).
 *
 * <!-- options:median-smoothing -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `size` | integer in [2, 5] | 2 | window side in pixels (2: the paper's MNIST setting) |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { defend } from '@advx/core';
 * import { medianSmoothing } from '@advx/defenses';
 *
 * const median = medianSmoothing({ size: 3 });
 * const x = tf.tensor4d([0, 0, 0, 0, 1, 0, 0, 0, 0], [1, 3, 3, 1]);
 * median.apply(x, [0, 1]).print(); // all zeros: the lone bright pixel is removed
 * const defended = defend(model, median);
 * ```
 * @public
 */
export const medianSmoothing = defineFactory('medianSmoothing', MEDIAN_SMOOTHING_OPTIONS, (o): Preprocessor => {
  const { size } = o;
  const rank = Math.floor((size * size) / 2);
  return Object.freeze({
    name: 'median-smoothing',
    gradient: 'exact' as const,
    randomized: false,
    apply: (x: tf.Tensor) => {
      assertImageBatch('medianSmoothing', x);
      if (x.shape[1] < size || x.shape[2] < size) {
        throw new AdvxError(
          'INVALID_SHAPE',
          `medianSmoothing: images of ${x.shape[1]}×${x.shape[2]} are smaller than the ${size}×${size} window; use a smaller size.`,
        );
      }
      return tf.tidy(() => sortNetwork(windows(x, size))[rank] as tf.Tensor);
    },
  });
});

/**
 * Options of {@link medianSmoothing}.
 *
 * @public
 */
export type MedianSmoothingOptions = FactoryOptions<typeof medianSmoothing>;
