import * as tf from '@tensorflow/tfjs-core';

import type { AnyModel } from './model.js';
import { forEachChunk } from './plugin/chunks.js';
import { checkInteger } from './validate.js';

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
  const out = new Int32Array(x.shape[0] as number);
  await forEachChunk(x, batchSize, async (xb, start) => {
    const scores = model.kind === 'query' ? await model.query(xb) : tf.tidy(() => model.logits(xb));
    const pred = tf.tidy(() => tf.cast(tf.argMax(scores, 1), 'int32'));
    scores.dispose();
    out.set((await pred.data()) as Int32Array, start);
    pred.dispose();
  });
  return out;
}
