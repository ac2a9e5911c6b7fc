import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` on consecutive slices of at most `size` rows of `x` along axis 0, in order, awaiting
 * each; a slice is released after its call (the whole `x` is passed as is when it fits).
 *
 * @example
 * ```ts
 * const scores = new Float32Array(x.shape[0]);
 * await forEachChunk(x, 256, async (rows, offset) => {
 *   const s = tf.tidy(() => tf.max(model.logits(rows), 1));
 *   scores.set(await s.data(), offset);
 *   s.dispose();
 * });
 * ```
 * @public
 */
export async function forEachChunk(x: tf.Tensor, size: number, fn: (rows: tf.Tensor, offset: number) => Promise<void>): Promise<void> {
  const n = x.shape[0] as number;
  for (let start = 0; start < n; start += size) {
    const b = Math.min(size, n - start);
    const rows = b === n ? x : tf.slice(x, start, b);
    try {
      await fn(rows, start);
    } finally {
      if (rows !== x) rows.dispose();
    }
  }
}
