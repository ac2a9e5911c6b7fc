import * as tf from '@tensorflow/tfjs-core';

import type { BatchRng } from '../rng.js';
import type { NormGeometry } from './types.js';
import { checkEps, distanceOf, epsColumn, flatten, normOf } from './util.js';

/** Smallest argument passed to `log` when sampling (float32 uniforms can round to 0 or 1). */
const TINY = 2 ** -24;

function manhattan(flat: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.abs(flat), 1);
}

/**
 * Exact Euclidean projection of every row of `v` `[n, d]` onto the L1 ball of radius `e` `[n, 1]`
 * (Duchi, Shalev-Shwartz, Singer & Chandra, 2008, fig. 1, applied to |v|).
 *
 * With `u` = |v| sorted descending and `S_k` its cumulative sums, Duchi's threshold is
 * `θ = (S_ρ − eps)/ρ` with `ρ = max{k : u_k > (S_k − eps)/k}`. The sequence `f(k) = (S_k − eps)/k`
 * increases exactly while `u_k > f(k−1)` (because `f(k)` is the running mean of `f(k−1)` and `u_k`),
 * so `θ = max_k f(k)`: computing the maximum avoids a gather at ρ and is robust to rounding.
 * The result is `sign(v)·max(|v| − θ, 0)`; rows already inside the ball are returned unchanged.
 */
function projectL1Rows(v: tf.Tensor2D, e: tf.Tensor2D, d: number): tf.Tensor2D {
  const a = tf.abs(v);
  const u = tf.topk(a, d, true).values; // sort descending (works on every backend)
  const css = tf.cumsum(u, 1);
  const k = tf.range(1, d + 1, 1, 'float32');
  const theta = tf.relu(tf.max(tf.div(tf.sub(css, e), k), 1, true));
  const projected = tf.mul(tf.sign(v), tf.relu(tf.sub(a, theta)));
  const inside = tf.lessEqual(tf.sum(a, 1, true), e);
  return tf.where(tf.tile(inside, [1, d]), v, projected) as tf.Tensor2D;
}

/**
 * The L1 geometry: `‖δ‖₁ = Σᵢ |δᵢ|` per sample.
 *
 * - `project` is the exact Euclidean projection onto the L1 ball (Duchi et al. 2008: sort,
 *   cumulative sums, soft threshold), computed with batched tfjs ops (`tf.topk` as the sort), so it
 *   runs on every backend. It is not a rescale. Samples already inside are unchanged.
 * - `normalizeGradient` is `g/‖g‖₁`; zero-gradient rows give zero.
 * - `randomStart` is uniform in the L1 ball (Barthe, Guédon, Mendelson & Naor 2005): `y` with
 *   i.i.d. Laplace entries (inverse CDF of uniforms), `w ~ Exp(1)` per row, `δ = eps·y/(‖y‖₁ + w)`.
 *
 * @example
 * ```ts
 * l1.project(tf.tensor2d([[3, 1, 0]]), 2); // [[2, 0, 0]]
 * ```
 * @public
 */
export const l1: NormGeometry = {
  name: 'l1',

  norm(delta: tf.Tensor): tf.Tensor1D {
    return normOf(delta, manhattan);
  },

  distance(a: tf.Tensor, b: tf.Tensor): tf.Tensor1D {
    return distanceOf(a, b, manhattan);
  },

  project(delta: tf.Tensor, eps: number | tf.Tensor1D): tf.Tensor {
    return tf.tidy(() => {
      const { flat, n, d, shape } = flatten(delta, 'delta');
      const e = epsColumn(eps, n);
      return tf.reshape(projectL1Rows(flat, e, d), [...shape]);
    });
  },

  normalizeGradient(g: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { flat, shape } = flatten(g, 'g');
      const s = tf.sum(tf.abs(flat), 1, true);
      const safe = tf.where(tf.greater(s, 0), s, tf.onesLike(s));
      return tf.reshape(tf.div(flat, safe), [...shape]);
    });
  },

  randomStart(shape: readonly number[], eps: number, rng: BatchRng): tf.Tensor {
    checkEps(eps, false);
    return tf.tidy(() => {
      // Laplace(0, 1) by inverse CDF: y = sign(u − ½)·(−log(1 − 2|u − ½|)), u uniform in [0, 1).
      const uni = rng.uniform(shape);
      const { flat: uFlat, n } = flatten(uni, 'shape');
      const c = tf.sub(uFlat, 0.5);
      const tail = tf.maximum(tf.sub(1, tf.mul(2, tf.abs(c))), TINY);
      const y = tf.mul(tf.sign(c), tf.neg(tf.log(tail)));
      // w ~ Exp(1) per row, by inverse CDF of one more uniform per row.
      const w = Float32Array.from(rng.uniforms(), (x) => -Math.log(Math.max(1 - x, TINY)));
      const denom = tf.add(tf.sum(tf.abs(y), 1, true), tf.tensor2d(w, [n, 1], 'float32'));
      // denom is 0 only if y = 0 and w = 0 (probability ~0); guard anyway so no NaN can appear.
      return tf.reshape(tf.mul(eps, tf.div(y, tf.maximum(denom, TINY))), [...shape]);
    });
  },
};
