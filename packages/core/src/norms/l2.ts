import * as tf from '@tensorflow/tfjs-core';

import type { BatchRng } from '../rng.js';
import type { NormGeometry } from './types.js';
import { checkEps, distanceOf, epsColumn, flatten, normOf } from './util.js';

function euclidean(flat: tf.Tensor2D): tf.Tensor1D {
  return tf.sqrt(tf.sum(tf.square(flat), 1)) as tf.Tensor1D;
}

/** Divides every row by its L2 norm; rows of norm zero stay zero. Robust to tiny gradients. */
function unitRows(flat: tf.Tensor2D): tf.Tensor2D {
  // Pre-scale by the row's max |g| so that squaring cannot underflow for tiny gradients.
  const m = tf.max(tf.abs(flat), 1, true);
  const scaled = tf.div(flat, tf.where(tf.greater(m, 0), m, tf.onesLike(m)));
  const nrm = tf.sqrt(tf.sum(tf.square(scaled), 1, true));
  return tf.div(scaled, tf.where(tf.greater(nrm, 0), nrm, tf.onesLike(nrm)));
}

/**
 * The L2 (Euclidean) geometry: `‖δ‖₂ = sqrt(Σᵢ δᵢ²)` per sample.
 *
 * - `project` rescales a sample by `min(1, eps/‖δ‖₂)` (samples inside the ball, and `δ = 0`, are unchanged).
 * - `normalizeGradient` is `g/‖g‖₂`; zero-gradient rows give zero.
 * - `randomStart` is uniform in the ball: a Gaussian direction scaled to radius `eps·U^(1/d)`,
 *   `U` uniform per row, `d` the number of entries per sample.
 *
 * @example
 * ```ts
 * l2.project(tf.tensor2d([[3, 4]]), 1); // [[0.6, 0.8]]
 * ```
 * @public
 */
export const l2: NormGeometry = {
  name: 'l2',

  norm(delta: tf.Tensor): tf.Tensor1D {
    return normOf(delta, euclidean);
  },

  distance(a: tf.Tensor, b: tf.Tensor): tf.Tensor1D {
    return distanceOf(a, b, euclidean);
  },

  project(delta: tf.Tensor, eps: number | tf.Tensor1D): tf.Tensor {
    return tf.tidy(() => {
      const { flat, n, shape } = flatten(delta, 'delta');
      const e = epsColumn(eps, n);
      const nrm = tf.sqrt(tf.sum(tf.square(flat), 1, true));
      // Safe denominator: where the norm is 0 the factor is 1 (the sample is inside the ball).
      const safe = tf.where(tf.greater(nrm, 0), nrm, tf.onesLike(nrm));
      const factor = tf.where(tf.greater(nrm, e), tf.div(e, safe), tf.onesLike(nrm));
      return tf.reshape(tf.mul(flat, factor), [...shape]);
    });
  },

  normalizeGradient(g: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { flat, shape } = flatten(g, 'g');
      return tf.reshape(unitRows(flat), [...shape]);
    });
  },

  randomStart(shape: readonly number[], eps: number, rng: BatchRng): tf.Tensor {
    checkEps(eps, false);
    return tf.tidy(() => {
      const gauss = rng.normal(shape);
      const { flat, n, d } = flatten(gauss, 'shape');
      const u = rng.uniforms();
      const radii = Float32Array.from(u, (x) => eps * Math.pow(x, 1 / d));
      const r = tf.tensor2d(radii, [n, 1], 'float32');
      return tf.reshape(tf.mul(unitRows(flat), r), [...shape]);
    });
  },
};
