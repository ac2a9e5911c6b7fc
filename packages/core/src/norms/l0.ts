import * as tf from '@tensorflow/tfjs-core';

import type { BatchRng } from '../rng.js';
import type { NormGeometry } from './types.js';
import { checkEps, distanceOf, epsColumn, flatten, normOf, rowRanks } from './util.js';

function countNonZero(flat: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.cast(tf.greater(tf.abs(flat), 0), 'float32'), 1);
}

/**
 * The L0 "norm": the number of non-zero entries per sample (`|δᵢ| > 0`), as float32.
 *
 * - `project` keeps the `floor(eps)` largest-magnitude entries of each sample and zeroes the rest
 *   (the Euclidean projection onto the set of `floor(eps)`-sparse vectors). Ties in magnitude are
 *   broken by `tf.topk` order (lower index first on the cpu backend), deterministically. Samples
 *   with at most `floor(eps)` non-zero entries are unchanged.
 * - `normalizeGradient` is one-hot at the largest `|g|` entry (first one on ties), times its sign;
 *   zero-gradient rows give zero.
 * - `randomStart` chooses `floor(eps)` distinct coordinates per row uniformly at random (the
 *   smallest-rank entries of i.i.d. uniform keys) and gives them values uniform in `[−1, 1)`; the
 *   other entries are 0. The L0 ball has no magnitude bound, so the scale 1 is a convention: it
 *   spans a whole `[0, 1]` input range; callers clip to the model's bounds.
 *
 * @example
 * ```ts
 * l0.project(tf.tensor2d([[0.1, -3, 2]]), 1); // [[0, -3, 0]]
 * ```
 * @public
 */
export const l0: NormGeometry = {
  name: 'l0',

  norm(delta: tf.Tensor): tf.Tensor1D {
    return normOf(delta, countNonZero);
  },

  distance(a: tf.Tensor, b: tf.Tensor): tf.Tensor1D {
    return distanceOf(a, b, countNonZero);
  },

  project(delta: tf.Tensor, eps: number | tf.Tensor1D): tf.Tensor {
    return tf.tidy(() => {
      const { flat, n, d, shape } = flatten(delta, 'delta');
      const k = tf.floor(epsColumn(eps, n));
      if (typeof eps === 'number' && Math.floor(eps) >= d) return tf.reshape(tf.clone(flat), [...shape]);
      const keep = tf.less(rowRanks(tf.abs(flat)), k);
      return tf.reshape(tf.where(keep, flat, tf.zerosLike(flat)), [...shape]);
    });
  },

  normalizeGradient(g: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { flat, d, shape } = flatten(g, 'g');
      const hot = tf.cast(tf.oneHot(tf.argMax(tf.abs(flat), 1), d), 'float32');
      return tf.reshape(tf.mul(hot, tf.sign(flat)), [...shape]);
    });
  },

  randomStart(shape: readonly number[], eps: number, rng: BatchRng): tf.Tensor {
    checkEps(eps, false);
    const k = Math.floor(eps);
    return tf.tidy(() => {
      const keys = rng.uniform(shape);
      const values = rng.uniform(shape, -1, 1);
      const { flat: kFlat } = flatten(keys, 'shape');
      const { flat: vFlat } = flatten(values, 'shape');
      const chosen = tf.less(rowRanks(kFlat), k);
      return tf.reshape(tf.where(chosen, vFlat, tf.zerosLike(vFlat)), [...shape]);
    });
  },
};
