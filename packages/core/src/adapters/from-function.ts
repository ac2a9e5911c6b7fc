import type * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '../errors.js';
import type { Bounds, Model } from '../model.js';
import { makeModel, validateOutput, type ModelOutput, type NormalizeOptions } from './make-model.js';

/**
 * Options of {@link fromFunction}.
 *
 * @example
 * ```ts
 * const options: FromFunctionOptions = { inputShape: [784], numClasses: 10, bounds: [0, 1], output: 'logits' };
 * ```
 * @public
 */
export interface FromFunctionOptions {
  /** Shape of one sample, without the batch axis (e.g. `[28, 28, 1]`). Required. */
  readonly inputShape: readonly number[];
  /** Number of classes: the length of each output row. Required. */
  readonly numClasses: number;
  /** Valid input range `[low, high]` of the raw (unnormalized) input. Required. */
  readonly bounds: Bounds;
  /**
   * What `fn` returns. Required: `'logits'` (scores before softmax, preferred) or `'probabilities'`
   * (converted to log-probabilities with `log(clip(p, 1e-12, 1))`; a `PROBABILITY_OUTPUT` warning
   * is raised because saturated softmax gradients vanish).
   */
  readonly output: ModelOutput;
  /** Optional `(x - mean) / std` over the channel axis, applied before `fn`. Default: none. */
  readonly normalize?: NormalizeOptions;
}

/**
 * Wraps a differentiable function as an advx {@link Model}: white-box access to any classifier
 * written with tfjs ops.
 *
 * `fn` receives a float32 batch `[n, ...inputShape]` (already normalized when `normalize` is given)
 * and must return `[n, numClasses]` using tfjs ops only, so that gradients w.r.t. the input flow
 * through it. It is called inside `tf.tidy`; it must not dispose its input.
 *
 * @param fn - the classifier: batch to class scores.
 * @param options - see {@link FromFunctionOptions}.
 * @returns a frozen {@link Model}; its `logits(x)` checks that `x` is `[n, ...inputShape]`.
 * @throws AdvxError `INVALID_OPTION` for a missing or invalid option; `INVALID_MODEL` when `fn` is
 * not a function.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 *
 * const w = tf.tensor2d([[1, -1], [2, 0], [0, 3]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [3], numClasses: 2, bounds: [0, 1], output: 'logits',
 * });
 * const logits = model.logits(tf.tensor2d([[0.1, 0.2, 0.3]])); // [[0.5, 0.8]]
 * ```
 * @public
 */
export function fromFunction(fn: (x: tf.Tensor) => tf.Tensor2D, options: FromFunctionOptions): Model {
  if (typeof fn !== 'function') {
    throw new AdvxError(
      'INVALID_MODEL',
      `fromFunction: expected a function (x: Tensor) => Tensor2D, got ${typeof fn}. To wrap a tf.LayersModel use ` +
        'fromLayersModel, for a tf.GraphModel use fromGraphModel.',
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new AdvxError('INVALID_OPTION', 'fromFunction: options { inputShape, numClasses, bounds, output } are required.');
  }
  const output = validateOutput(options.output, 'fromFunction');
  return makeModel({
    name: 'fromFunction',
    inputShape: options.inputShape,
    numClasses: options.numClasses,
    bounds: options.bounds,
    normalize: options.normalize,
    output,
    forward: fn,
  });
}
