import * as tf from '@tensorflow/tfjs-core';

import { fromFunction } from '../adapters/index.js';
import type { Bounds, Model } from '../model.js';

/**
 * Options of {@link linearModel}.
 *
 * @public
 */
export interface LinearModelOptions {
  /** Weight matrix, one row per class: `weights[c]` has one entry per input element. */
  readonly weights: readonly (readonly number[])[];
  /** One bias per class (default zeros). */
  readonly bias?: readonly number[];
  /** Per-sample input shape (default `[weights[0].length]`). */
  readonly inputShape?: readonly number[];
  /** Input bounds (default `[0, 1]`). */
  readonly bounds?: Bounds;
}

/**
 * A linear classifier `z = W·x + b` with hand-chosen weights: the smallest model whose gradients
 * and adversarial examples can be computed by hand, for closed-form tests.
 *
 * @example
 * ```ts
 * const model = linearModel({ weights: [[1, -1], [-1, 1]] }); // 2 inputs, 2 classes
 * ```
 * @public
 */
export function linearModel(options: LinearModelOptions): Model {
  const w = options.weights;
  const d = w[0]?.length ?? 0;
  const c = w.length;
  const inputShape = options.inputShape ?? [d];
  const wt = tf.keep(tf.transpose(tf.tensor2d(w.map((r) => [...r]), [c, d])) as tf.Tensor2D);
  const b = tf.keep(tf.tensor1d(options.bias ? [...options.bias] : new Array<number>(c).fill(0)));
  return fromFunction((x) => tf.add(tf.matMul(tf.reshape(x, [-1, d]), wt), b) as tf.Tensor2D, {
    inputShape: [...inputShape],
    numClasses: c,
    bounds: options.bounds ?? [0, 1],
    output: 'logits',
  });
}
