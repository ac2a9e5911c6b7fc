import type * as tf from '@tensorflow/tfjs-core';

import type { BatchRng } from '../rng.js';

/**
 * Names of the supported perturbation norms.
 *
 * @public
 */
export type NormName = 'linf' | 'l2' | 'l1' | 'l0';

/**
 * Geometry of one perturbation norm, applied per sample over all non-batch axes of a batch
 * `[n, ...]`. `eps` may be one radius for the batch or one per sample.
 *
 * @public
 */
export interface NormGeometry {
  /** The norm's name. */
  readonly name: NormName;
  /** Per-sample norm of `delta`: shape `[n]`. */
  norm(delta: tf.Tensor): tf.Tensor1D;
  /** Per-sample distance `‖a − b‖`: shape `[n]`. */
  distance(a: tf.Tensor, b: tf.Tensor): tf.Tensor1D;
  /**
   * Exact Euclidean projection of `delta` onto the ball `‖δ‖ ≤ eps` (for `l0`: keeps the
   * `floor(eps)` largest-magnitude entries). Samples already inside are returned unchanged.
   */
  project(delta: tf.Tensor, eps: number | tf.Tensor1D): tf.Tensor;
  /**
   * The steepest-ascent direction of unit norm for gradient `g`: `sign(g)` for linf, `g/‖g‖₂` for
   * l2, `g/‖g‖₁` for l1, the top-magnitude entry for l0. Zero gradients give zero directions.
   */
  normalizeGradient(g: tf.Tensor): tf.Tensor;
  /** A perturbation drawn uniformly from the ball of radius `eps`, shape `shape` (`shape[0]` = rows of `rng`). */
  randomStart(shape: readonly number[], eps: number, rng: BatchRng): tf.Tensor;
}
