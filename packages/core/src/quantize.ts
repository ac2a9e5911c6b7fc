import * as tf from '@tensorflow/tfjs-core';

import type { Bounds } from './model.js';

/**
 * Rounds `xAdv` to the grid `lo + k·(hi − lo)/levels`, each value toward `x` (so every norm of
 * `xAdv − x` can only shrink); where rounding would cross `x` (an input off the grid), keeps `x`.
 *
 * @public
 */
export function quantizeToward(xAdv: tf.Tensor, x: tf.Tensor, bounds: Bounds, levels = 255): tf.Tensor {
  return tf.tidy(() => {
    const [lo, hi] = bounds;
    const k = tf.mul(tf.sub(xAdv, lo), levels / (hi - lo));
    const up = tf.greaterEqual(xAdv, x);
    // A small tolerance absorbs float error of values that are already on the grid.
    const kq = tf.where(up, tf.floor(tf.add(k, 1e-3)), tf.ceil(tf.sub(k, 1e-3)));
    const q = tf.add(lo, tf.mul(hi - lo, tf.div(kq, levels)));
    const crossed = tf.logicalOr(tf.logicalAnd(up, tf.less(q, x)), tf.logicalAnd(tf.logicalNot(up), tf.greater(q, x)));
    return tf.clipByValue(tf.where(crossed, x, q), lo, hi);
  });
}
