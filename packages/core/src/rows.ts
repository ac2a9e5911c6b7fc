import * as tf from '@tensorflow/tfjs-core';

/**
 * Row-wise select: row `i` of `a` where `condition[i]`, else row `i` of `b`.
 *
 * @public
 */
export function whereRows(condition: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const cond = tf.reshape(condition, [condition.shape[0] as number, ...new Array<number>(Math.max(0, a.rank - 1)).fill(1)]);
    return tf.where(tf.broadcastTo(cond, a.shape), a, b);
  });
}

/**
 * Rows `rows` of `t` (indices into its first dimension), as a new tensor `[rows.length, ...]`.
 *
 * @public
 */
export function gatherRows(t: tf.Tensor, rows: Int32Array): tf.Tensor {
  return tf.tidy(() => tf.gather(t, tf.tensor1d(rows, 'int32')));
}

/**
 * `full` with row `rows[j]` replaced by row `j` of `part`, as a new tensor (the inverse of
 * {@link gatherRows}): rows are copied, never recomputed, so values stay bit for bit.
 *
 * @public
 */
export function scatterRows(full: tf.Tensor, part: tf.Tensor, rows: Int32Array): tf.Tensor {
  const n = full.shape[0] as number;
  const from = new Int32Array(n);
  for (let i = 0; i < n; i++) from[i] = i;
  rows.forEach((row, j) => (from[row] = n + j));
  return tf.tidy(() => tf.gather(tf.concat([full, part], 0), tf.tensor1d(from, 'int32')));
}
