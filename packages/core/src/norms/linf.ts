import * as tf from '@tensorflow/tfjs-core';

import type { BatchRng } from '../rng.js';
import type { NormGeometry } from './types.js';
import { checkEps, distanceOf, epsColumn, flatten, normOf } from './util.js';

function maxAbs(flat: tf.Tensor2D): tf.Tensor1D {
  return tf.max(tf.abs(flat), 1);
}

/**
 * The L∞ (max-norm) geometry: `‖δ‖∞ = maxᵢ |δᵢ|` per sample.
 *
 * - `project` clips every entry to `[−eps, eps]` (the exact Euclidean projection onto the box).
 * - `normalizeGradient` is `sign(g)` (zero entries stay zero), the steepest-ascent direction of FGSM/PGD.
 * - `randomStart` draws every entry uniformly in `[−eps, eps)` from the given {@link BatchRng}.
 *
 * @example
 * ```ts
 * const delta = linf.project(tf.tensor2d([[0.5, -0.2]]), 0.3); // [[0.3, -0.2]]
 * ```
 * @public
 */
export const linf: NormGeometry = {
  name: 'linf',

  norm(delta: tf.Tensor): tf.Tensor1D {
    return normOf(delta, maxAbs);
  },

  distance(a: tf.Tensor, b: tf.Tensor): tf.Tensor1D {
    return distanceOf(a, b, maxAbs);
  },

  project(delta: tf.Tensor, eps: number | tf.Tensor1D): tf.Tensor {
    return tf.tidy(() => {
      const { flat, n, shape } = flatten(delta, 'delta');
      const e = epsColumn(eps, n);
      const clipped = tf.minimum(tf.maximum(flat, tf.neg(e)), e);
      return tf.reshape(clipped, [...shape]);
    });
  },

  normalizeGradient(g: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.sign(g.dtype === 'float32' ? g : tf.cast(g, 'float32')));
  },

  randomStart(shape: readonly number[], eps: number, rng: BatchRng): tf.Tensor {
    checkEps(eps, false);
    return rng.uniform(shape, -eps, eps);
  },
};
