import * as tf from '@tensorflow/tfjs-core';

import { checkInteger } from './validate.js';
import type { AnyModel } from './model.js';

/**
 * Options of {@link predictClasses}.
 *
 * @public
 */
export interface PredictOptions {
  /** Rows per forward pass (default 256), so that a large `x` never runs through the model at once. */
  readonly batchSize?: number;
}

/**
 * The predicted class (arg max of the logits, or of a query model's scores) of every row of `x`,
 * computed `batchSize` rows at a time. Leaks no tensor.
 *
 * @example
 * ```ts
 * const pred = await predictClasses(model, x); // Int32Array, one class per row
 * ```
 * @public
 */
export async function predictClasses(model: AnyModel, x: tf.Tensor, options: PredictOptions = {}): Promise<Int32Array> {
  const batchSize = checkInteger('predictClasses: batchSize', options.batchSize ?? 256, 1);
  const n = x.shape[0] as number;
  const out = new Int32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const xb = size === n ? x : tf.slice(x, start, size);
    try {
      const scores = model.kind === 'query' ? await model.query(xb) : tf.tidy(() => model.logits(xb));
      const pred = tf.tidy(() => tf.cast(tf.argMax(scores, 1), 'int32'));
      scores.dispose();
      out.set((await pred.data()) as Int32Array, start);
      pred.dispose();
    } finally {
      if (xb !== x) xb.dispose();
    }
  }
  return out;
}
